"""API keys: created and managed by members, used by scripts as bearer tokens."""
