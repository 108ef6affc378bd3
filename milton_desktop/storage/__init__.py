"""Storage: the database, settings, media files and the keyring."""
