"""An API key's expiry day: the day a member picks is the day the list and the edit form show,
in any time zone, and the page names the same instant as the API."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from webapp.extensions import db
from webapp.timeutil import last_day, utcnow

PAGE = "/settings/api-keys"
HTMX = {"HX-Request": "true"}


def _day_before_a_skipped_midnight(zone: str, year: int) -> date:
    """A day whose ending midnight does not exist on the wall clock (DST starting at 00:00)."""
    tz = ZoneInfo(zone)
    day = date(year, 1, 1)
    while day.year == year:
        midnight = datetime.combine(day + timedelta(days=1), time.min, tz)
        if midnight.astimezone(UTC).astimezone(tz).hour != 0:
            return day
        day += timedelta(days=1)
    raise AssertionError(f"{zone} skips no midnight in {year}")


NEXT_YEAR = utcnow().year + 1
CASES = [
    ("UTC", date(NEXT_YEAR, 6, 30)),
    ("America/Los_Angeles", date(NEXT_YEAR, 6, 30)),
    ("Pacific/Auckland", date(NEXT_YEAR, 6, 30)),
    ("Pacific/Auckland", date(NEXT_YEAR, 12, 31)),
    ("America/Santiago", _day_before_a_skipped_midnight("America/Santiago", NEXT_YEAR)),
]


@pytest.mark.parametrize("zone, day", CASES, ids=[f"{z} {d}" for z, d in CASES])
def test_the_expiry_day_picked_is_the_day_shown(client, member, auth, zone, day):
    member.profile.timezone = zone
    db.session.commit()
    form = {
        "csrf_token": auth.csrf(PAGE),
        "name": "Dated",
        "permissions": ["profile:read"],
        "rate_limit": "10",
        "expires_on": day.isoformat(),
    }
    assert client.post(PAGE, data=form, headers=HTMX).status_code == 200

    key = client.get("/api/v1/api-keys").get_json()["data"][0]
    instant = datetime.fromisoformat(key["expires_at"])
    # The key works through the whole chosen day in the member's zone, and not a moment longer.
    assert instant == datetime.combine(day + timedelta(days=1), time.min, ZoneInfo(zone)).astimezone(UTC)

    html = client.get(PAGE).get_data(as_text=True)
    shown = re.search(r"<dt>Expires</dt><dd>(.*?)</dd>", html).group(1)
    assert re.sub(r"<[^>]+>", "", shown) == day.strftime("%b %-d, %Y")
    machine = re.search(r'<time datetime="([^"]+)">', shown)
    assert machine and datetime.fromisoformat(machine.group(1)) == instant  # page and API: one instant

    edit = client.get(f"{PAGE}/{key['id']}/edit", headers=HTMX).get_data(as_text=True)
    assert f'value="{day.isoformat()}"' in edit


def test_an_expiry_set_through_the_api_shows_the_last_day_it_works(client, member, auth):
    """15:00 UTC is 03:00 the next day in Auckland: the key still works that day."""
    member.profile.timezone = "Pacific/Auckland"
    db.session.commit()
    body = {"name": "Script", "permissions": ["profile:read"], "expires_at": f"{NEXT_YEAR}-06-30T15:00:00Z"}
    assert client.post("/api/v1/api-keys", json=body, headers=auth.headers()).status_code == 201
    html = client.get(PAGE).get_data(as_text=True)
    assert f">Jul 1, {NEXT_YEAR}</time>" in html


def test_last_day_steps_back_on_the_instant_not_the_wall_clock():
    tz = ZoneInfo("America/Santiago")
    day = _day_before_a_skipped_midnight("America/Santiago", NEXT_YEAR)
    end = datetime.combine(day + timedelta(days=1), time.min, tz)
    assert end.astimezone(UTC).astimezone(tz).hour == 1  # that midnight is skipped: the day starts at 01:00
    assert last_day(end, "America/Santiago") == day
    assert last_day(end, "UTC") == (end.astimezone(UTC) - timedelta(microseconds=1)).date()
    assert last_day(None, "UTC") is None
