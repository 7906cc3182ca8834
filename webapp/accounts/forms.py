"""Forms for the profile, CV, avatar, settings and account deletion pages.

The forms render fields and carry CSRF; the rules are the contracts in ``schemas``, applied by
the service, so the pages and the JSON API refuse exactly the same input. A form's only job
is to turn what a browser sends (text) into the values the API takes.
"""

from __future__ import annotations

import functools

from flask_wtf.file import FileField, FileRequired
from wtforms import (
    BooleanField,
    FieldList,
    FormField,
    IntegerField,
    PasswordField,
    RadioField,
    SelectChoice,
    SelectField,
    StringField,
    TextAreaField,
    URLField,
)
from wtforms.validators import DataRequired, NumberRange, Optional

from webapp import pagination, rules
from webapp.accounts import schemas
from webapp.forms import CachedSelect, FolioForm, FolioSubform, choices, shaped_by
from webapp.timeutil import canonical_timezones, is_timezone

_month = {"type": "month", "placeholder": "YYYY-MM"}
PAGE_SIZES = (5, 10, 20, 50, 100)
# The regions the page groups zones by. Only canonical zones are offered (tz's zone.tab); legacy
# aliases (US/Eastern, Asia/Calcutta, Etc/GMT+5) are still accepted from the API.
TIMEZONE_REGIONS = ("Africa", "America", "Antarctica", "Asia", "Atlantic", "Australia", "Europe", "Indian", "Pacific")


def timezone_choices(current: str | None = None) -> list[SelectChoice]:
    """UTC, then the region zones grouped by region and named within it ("New York",
    "Argentina / Buenos Aires"). A ``current`` zone outside the list (set through the API)
    comes right after UTC, so the page shows it and saves it back unchanged."""
    regions = _region_zone_choices()
    if current and current != "UTC" and current not in canonical_timezones() and is_timezone(current):
        return [regions[0], SelectChoice(current, current.replace("_", " ")), *regions[1:]]
    return list(regions)


@functools.cache
def _region_zone_choices() -> tuple[SelectChoice, ...]:
    """UTC and the region zones: the same for everyone, so built once per process."""
    offered = [SelectChoice("UTC", "UTC")]
    for name in canonical_timezones():
        region, _, place = name.partition("/")
        if region in TIMEZONE_REGIONS and place:
            offered.append(SelectChoice(name, place.replace("_", " ").replace("/", " / "), optgroup=region))
    return tuple(offered)


@shaped_by(schemas.ProfileChanges)
class ProfileForm(FolioForm):
    display_name = StringField("Public name", validators=[DataRequired()])
    first_name = StringField("First name", render_kw={"autocomplete": "given-name"})
    last_name = StringField("Last name", render_kw={"autocomplete": "family-name"})
    phone = StringField(
        "Phone",
        description="International format, e.g. +14155550123",
        render_kw={"autocomplete": "tel", "inputmode": "tel"},
    )
    bio = TextAreaField("Bio", description="A few sentences shown on your public page.", render_kw={"rows": 4})
    company = StringField("Company", render_kw={"autocomplete": "organization"})
    job_title = StringField("Job title", render_kw={"autocomplete": "organization-title"})
    location = StringField("Location")
    website = URLField("Website", render_kw={"placeholder": "https://", "autocomplete": "url"})
    linkedin_username = StringField("LinkedIn username", render_kw={"placeholder": "username"})
    github_username = StringField("GitHub username", render_kw={"placeholder": "username"})
    twitter_username = StringField("X (Twitter) username", render_kw={"placeholder": "username"})
    slug = StringField("Portfolio address", description="Your page lives at /p/<address>.")
    categories = StringField("Categories", description="Comma-separated, up to 10 (e.g. Fashion, Travel).")
    budget_min = IntegerField("Budget from (USD)", validators=[Optional(), NumberRange(min=0)])
    budget_max = IntegerField("Budget up to (USD)", validators=[Optional(), NumberRange(min=0)])

    def changes(self) -> dict:
        """The submitted values as the API takes them: budgets in cents, categories as a list,
        handles trimmed and the address in lowercase (people type it capitalized)."""
        data = {name: field.data for name, field in self._fields.items() if name != "csrf_token"}
        for name in ("budget_min", "budget_max"):
            data[name] = data[name] * 100 if data[name] is not None else None
        data["categories"] = rules.comma_list(data["categories"])
        for name in ("linkedin_username", "github_username", "twitter_username"):
            data[name] = (data[name] or "").strip()
        data["slug"] = (data["slug"] or "").strip().lower()
        return data


@shaped_by(schemas.ExperienceEntry)
class ExperienceRow(FolioSubform):
    title = StringField("Role")
    company = StringField("Company")
    start = StringField("From", render_kw=_month)
    end = StringField("To", description="Leave empty if current", render_kw=_month)
    description = TextAreaField("What you did", render_kw={"rows": 2})


@shaped_by(schemas.EducationEntry)
class EducationRow(FolioSubform):
    school = StringField("School")
    degree = StringField("Degree")
    start = StringField("From", render_kw=_month)
    end = StringField("To", render_kw=_month)


@shaped_by(schemas.LinkEntry)
class LinkRow(FolioSubform):
    label = StringField("Label")
    url = URLField("URL", render_kw={"placeholder": "https://"})


@shaped_by(schemas.CVDocument)
class CVForm(FolioForm):
    headline = StringField("Headline", description="One line that sums up your work.")
    experience = FieldList(FormField(ExperienceRow))
    education = FieldList(FormField(EducationRow))
    skills = StringField("Skills", description="Comma-separated.")
    links = FieldList(FormField(LinkRow))

    def document(self) -> dict:
        """The CV document, without rows left completely empty.

        ``kept_rows`` remembers which form entry each stored row came from, so that an error
        about ``experience.1`` can be shown inside the right row of the form
        (``apply_errors(form, error, entries=form.kept_rows)``).
        """
        self.kept_rows: dict[str, list[int]] = {}

        def filled(kind: str) -> list[dict]:
            entries = getattr(self, kind).entries
            kept = [
                i
                for i, e in enumerate(entries)
                if any((v or "").strip() for v in e.data.values() if isinstance(v, str))
            ]
            self.kept_rows[kind] = kept
            return [{k: (v or None) for k, v in entries[i].data.items() if k != "csrf_token"} for i in kept]

        return {
            "headline": self.headline.data or "",
            "experience": filled("experience"),
            "education": filled("education"),
            "skills": rules.comma_list(self.skills.data),
            "links": filled("links"),
        }


class AvatarForm(FolioForm):
    avatar = FileField(
        "Profile photo",
        validators=[FileRequired("Choose an image.")],
        render_kw={"accept": "image/jpeg,image/png,image/webp,image/gif"},
    )


class SettingsForm(FolioForm):
    theme = RadioField("Theme", choices=choices([("system", "Match my device"), ("light", "Light"), ("dark", "Dark")]))
    compact_mode = BooleanField("Compact mode", description="Tighter spacing everywhere.")
    default_view = RadioField("Default view for lists", choices=choices([("grid", "Grid"), ("list", "List")]))
    items_per_page = SelectField("Items per page", coerce=int, choices=[], widget=CachedSelect())
    show_thumbnails = BooleanField("Show thumbnails")
    auto_expand_folders = BooleanField("Expand folders automatically")
    confirm_delete = BooleanField("Ask before deleting things")
    timezone = SelectField("Time zone", choices=[], widget=CachedSelect())
    language = SelectField("Language", choices=choices(schemas.LANGUAGES.items()), widget=CachedSelect())
    public_profile = BooleanField("Publish my portfolio page", description="Visitors can see /p/<your address>.")
    show_activity = BooleanField("Show my activity to people I work with")
    allow_analytics = BooleanField("Help improve Folio with anonymous usage data")
    email_notifications = BooleanField("Email me about account activity")
    marketing_emails = BooleanField("Email me product news and offers")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.timezone.choices = timezone_choices(self.timezone.data)
        self.items_per_page.choices = choices((n, str(n)) for n in self._page_sizes())

    def _page_sizes(self) -> list[int]:
        """The usual sizes, plus the member's own when the API set another (5 to 100), so that
        the page can show it and save the form without refusing it."""
        sizes = set(PAGE_SIZES)
        current = self.items_per_page.data
        if isinstance(current, int) and pagination.MIN_PAGE_SIZE <= current <= pagination.MAX_PAGE_SIZE:
            sizes.add(current)
        return sorted(sizes)

    def changes(self) -> dict:
        return {name: field.data for name, field in self._fields.items() if name != "csrf_token"}


@shaped_by(schemas.AccountDeletion)
class DeleteAccountForm(FolioForm):
    password = PasswordField(
        "Your password", validators=[DataRequired()], render_kw={"autocomplete": "current-password"}
    )
    confirm = BooleanField(
        "I understand that this deletes my account and everything in it",
        validators=[DataRequired("Tick the box to confirm.")],
    )
