"""API keys: created and managed by members at /settings/api-keys, used by scripts as bearer tokens."""
