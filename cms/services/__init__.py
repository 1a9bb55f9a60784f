"""Domain services: typed functions over a session that never commit (the request does)."""
