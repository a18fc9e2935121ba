"""Pages of the crm module, one file per object."""
