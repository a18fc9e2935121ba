"""Excel import/export shared by every list page (S10.9)."""
