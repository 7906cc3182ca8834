"""Serving stored uploads (avatars) from the storage module's local folder."""
