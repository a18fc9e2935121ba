"""Pages of the purchasing module, one file per object."""
