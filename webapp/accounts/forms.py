"""Forms for the profile, CV, avatar, settings and account deletion pages.

The forms render fields and carry CSRF; the rules are the contracts in ``schemas``, applied by
the service, so the pages and the JSON API refuse exactly the same input. A form's only job
is to turn what a browser sends (text) into the values the API takes.
"""

from __future__ import annotations

import functools
import re

from flask_wtf.file import FileField, FileRequired
from wtforms import (
    BooleanField,
    FieldList,
    FormField,
    PasswordField,
    RadioField,
    SelectChoice,
    SelectField,
    StringField,
    TextAreaField,
    URLField,
)
from wtforms.validators import DataRequired

from webapp import pagination, rules
from webapp.accounts import avatars, schemas
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


_AMOUNT = {"inputmode": "decimal", "placeholder": "e.g. 1500"}
_USD = re.compile(r"^(-?)(\d{1,10})(?:\.(\d{1,2}))?$")
_UNREADABLE = object()


def dollars(amount_in_cents: int | None) -> str:
    """An amount as the page shows it: whole dollars, or with the cents it has."""
    if amount_in_cents is None:
        return ""
    whole, part = divmod(amount_in_cents, 100)
    return f"{whole}" if not part else f"{whole}.{part:02d}"


def cents(typed: str) -> int | None | object:
    """What the member typed in USD, in cents; nothing for blank; ``_UNREADABLE`` otherwise."""
    if not typed:
        return None
    match = _USD.match(typed.replace(",", ""))
    if match is None:
        return _UNREADABLE
    amount = int(match[2]) * 100 + int((match[3] or "0").ljust(2, "0"))
    return -amount if match[1] else amount


@shaped_by(schemas.ProfileChanges)
class ProfileForm(FolioForm):
    display_name = StringField("Public name", render_kw={"required": True})
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
    budget_min = StringField("Budget from (USD)", render_kw=_AMOUNT)
    budget_max = StringField("Budget up to (USD)", render_kw=_AMOUNT)

    BUDGETS = ("budget_min", "budget_max")

    @classmethod
    def of(cls, profile) -> ProfileForm:
        """The form filled from the stored profile: the inverse of ``changes``."""
        form = cls(formdata=None, obj=profile)
        form.categories.data = ", ".join(profile.categories or [])
        for name in cls.BUDGETS:
            getattr(form, name).data = dollars(getattr(profile, name))
        return form

    def changes(self) -> dict:
        """The submitted values as the API takes them: text trimmed, budgets in cents,
        categories as a list, the address in lowercase (people type it capitalized)."""
        data = {name: (field.data or "").strip() for name, field in self._fields.items() if name != "csrf_token"}
        for name in set(self.BUDGETS) - self._unreadable_budgets():
            data[name] = cents(data[name])
        data["categories"] = rules.comma_list(data["categories"])
        data["slug"] = data["slug"].lower()
        return data

    def explain(self, error):
        """The service's error in the page's words: a budget is typed in USD here."""
        for name in self._unreadable_budgets():
            error.details[name] = ["Enter an amount in USD, e.g. 1500 or 1499.99."]
        return error

    def _unreadable_budgets(self) -> set[str]:
        """The budgets typed as something other than an amount (sent on as typed, refused)."""
        return {name for name in self.BUDGETS if cents((getattr(self, name).data or "").strip()) is _UNREADABLE}


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
            rows = [entries[i].data for i in kept]
            return [{k: (v.strip() or None) if isinstance(v, str) else v for k, v in row.items()} for row in rows]

        return {
            "headline": (self.headline.data or "").strip(),
            "experience": filled("experience"),
            "education": filled("education"),
            "skills": rules.comma_list(self.skills.data),
            "links": filled("links"),
        }


class AvatarForm(FolioForm):
    avatar = FileField(
        "Profile photo",
        validators=[FileRequired(avatars.MISSING)],
        render_kw={"accept": "image/jpeg,image/png,image/webp,image/gif"},
    )


class SettingsForm(FolioForm):
    # No choice is checked here (validate_choice=False): the contract words every refusal.
    theme = RadioField(
        "Theme",
        choices=choices([("system", "Match my device"), ("light", "Light"), ("dark", "Dark")]),
        validate_choice=False,
    )
    compact_mode = BooleanField("Compact mode", description="Tighter spacing everywhere.")
    default_view = RadioField(
        "Default view for lists", choices=choices([("grid", "Grid"), ("list", "List")]), validate_choice=False
    )
    items_per_page = SelectField(
        "Items per page", coerce=rules.form_number, choices=[], widget=CachedSelect(), validate_choice=False
    )
    show_thumbnails = BooleanField("Show thumbnails")
    auto_expand_folders = BooleanField("Expand folders automatically")
    confirm_delete = BooleanField("Ask before deleting things")
    timezone = SelectField("Time zone", choices=[], widget=CachedSelect(), validate_choice=False)
    language = SelectField(
        "Language", choices=choices(schemas.LANGUAGES.items()), widget=CachedSelect(), validate_choice=False
    )
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
