"""Profile, CV, avatar, settings, export and deletion of a member's account."""
