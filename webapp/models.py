"""Imports every domain's models so that SQLAlchemy and Alembic see all tables."""

from webapp.accounts.models import Profile, UserSettings  # noqa: F401
from webapp.activity.models import ActivityLog  # noqa: F401
from webapp.apikeys.models import ApiKey  # noqa: F401
from webapp.auth.models import (  # noqa: F401
    RefreshToken,  # noqa: F401
    Role,
    User,
    UserSession,
)
from webapp.usage.models import UsageMetric  # noqa: F401
