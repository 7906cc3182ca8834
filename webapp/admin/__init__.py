"""Staff tools: user management (RBAC-checked)."""
