"""The JSON API platform under /api/v1: authentication, scopes, endpoints, health."""
