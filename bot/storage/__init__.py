"""Storage edge: database engine, URL handling and migrations."""
