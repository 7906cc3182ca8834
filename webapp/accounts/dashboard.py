"""The account's getting-started steps: a profile clients can read, a photo, a CV."""

from __future__ import annotations

from webapp.auth.models import User


def profile_filled(member: User) -> bool:
    profile = member.profile
    return bool(profile.job_title and profile.bio and profile.location)


def photo_added(member: User) -> bool:
    return bool(member.profile.avatar_url)


def cv_written(member: User) -> bool:
    cv = member.profile.profile_data or {}
    return bool(cv.get("experience") or cv.get("education"))
