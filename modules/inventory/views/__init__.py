"""Pages of the inventory module, one file per object."""
