"""Data only: curated guides (``guides/*.md``) and versioned catalogs (``catalog/*.yaml``)."""
