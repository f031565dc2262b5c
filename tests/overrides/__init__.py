"""A user's overrides of DRF's hooks on the async path, by topic."""
