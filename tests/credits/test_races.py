"""Concurrent spends and replays over HTTP, against gunicorn with several worker processes on
PostgreSQL: no lost update, no negative balance, one row per Idempotency-Key."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import sqlalchemy as sa

from tests.helpers import is_postgres, make_key
from webapp.api.models import IdempotencyKey
from webapp.credits import service as credits
from webapp.credits.models import CreditPurchase, CreditTransaction
from webapp.extensions import db

ROOT = Path(__file__).resolve().parents[2]
WORKERS, THREADS = 4, 8


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def server(_app, tmp_path_factory):
    """Folio under gunicorn (4 processes x 8 threads) on the test database."""
    if not os.environ.get("TEST_DATABASE_URL"):
        pytest.skip("needs PostgreSQL (TEST_DATABASE_URL)")
    port = _free_port()
    # A file, not a pipe: a pipe nobody reads fills up and blocks the server's logging.
    log = (tmp_path_factory.mktemp("gunicorn") / "stderr.log").open("w+")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("FLASK_", "REDIS_"))}
    env.update(FOLIO_ENV="testing", PYTHONPATH=str(ROOT))
    process = subprocess.Popen(  # noqa: S603 (fixed argv, no shell)
        [
            sys.executable,
            "-m",
            "gunicorn",
            "-w",
            str(WORKERS),
            "--threads",
            str(THREADS),
            "-b",
            f"127.0.0.1:{port}",
            "wsgi:app",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=log,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"{base}/api/v1/health", timeout=2)  # noqa: S310 (our own http URL)
            break
        except urllib.error.HTTPError:
            break
        except OSError:
            time.sleep(0.2)
    else:  # pragma: no cover - the server did not start
        process.kill()
        log.seek(0)
        pytest.fail(log.read())
    yield base
    process.terminate()
    process.wait(timeout=30)
    log.seek(0)
    print(log.read()[-5000:])  # shown when a test of the module failed


def _post(url: str, body: dict, headers: dict[str, str]) -> tuple[int, dict]:
    request = urllib.request.Request(  # noqa: S310 (our own http URL)
        url, data=json.dumps(body).encode(), method="POST", headers={"Content-Type": "application/json", **headers}
    )
    try:
        with urllib.request.urlopen(request, timeout=60) as response:  # noqa: S310
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def _all_at_once(count: int, call) -> list[tuple[int, dict]]:
    barrier = threading.Barrier(count)

    def run(number):
        barrier.wait()
        return call(number)

    with ThreadPoolExecutor(count) as pool:
        return list(pool.map(run, range(count)))


@pytest.fixture
def funded(app, make_user):
    if not is_postgres():
        pytest.skip("needs PostgreSQL (TEST_DATABASE_URL)")
    user = make_user(email="racer@example.com")
    credits.add(user.id, 100, "bonus", "Start", source=credits.Source("grant"))
    db.session.commit()
    _, secret = make_key(user, ["credits:read", "credits:spend", "credits:purchase"], rate_limit=100_000)
    return user, {"Authorization": f"Bearer {secret}"}


def test_200_parallel_spends_of_1_at_100_give_exactly_100_successes(server, funded):
    user, headers = funded
    answers = _all_at_once(200, lambda n: _post(f"{server}/api/v1/credits/spend", {"amount": 1}, headers))
    statuses = sorted(status for status, _ in answers)
    assert statuses == [200] * 100 + [402] * 100, statuses
    assert {body["error"]["code"] for status, body in answers if status == 402} == {"insufficient_credits"}
    db.session.expire_all()
    assert credits.account(user.id).current_balance == 0
    assert credits.account(user.id).monthly_usage == 100
    assert credits.check_ledger(user.id) == []
    afters = sorted(body["data"]["balance_after"] for status, body in answers if status == 200)
    assert afters == list(range(100)), "each success saw its own balance"


def test_50_parallel_requests_with_one_key_write_one_row(server, funded):
    user, headers = funded
    keyed = {**headers, "Idempotency-Key": "same-everywhere"}
    answers = _all_at_once(50, lambda n: _post(f"{server}/api/v1/credits/spend", {"amount": 3}, keyed))
    assert {status for status, _ in answers} == {200}, sorted({(s, json.dumps(b)[:120]) for s, b in answers})
    assert len({json.dumps(body, sort_keys=True) for _, body in answers}) == 1
    db.session.expire_all()
    assert db.session.scalar(sa.select(sa.func.count()).where(CreditTransaction.type == "usage")) == 1
    assert db.session.scalar(sa.select(sa.func.count()).select_from(IdempotencyKey)) == 1
    assert credits.account(user.id).current_balance == 97


def test_50_parallel_purchases_with_one_key_buy_one_pack(server, funded):
    user, headers = funded
    keyed = {**headers, "Idempotency-Key": "one-pack"}
    answers = _all_at_once(50, lambda n: _post(f"{server}/api/v1/credits/purchase", {"pack": "starter"}, keyed))
    assert {status for status, _ in answers} == {201}
    assert len({body["data"]["id"] for _, body in answers}) == 1
    db.session.expire_all()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(CreditPurchase)) == 1
    assert credits.account(user.id).current_balance == 600
    assert credits.check_ledger(user.id) == []


def test_parallel_spends_under_the_threshold_queue_one_refill(server, funded):
    user, headers = funded
    account = credits.account(user.id)
    account.auto_refill_enabled, account.refill_threshold, account.refill_amount = True, 95, 500
    db.session.commit()
    answers = _all_at_once(30, lambda n: _post(f"{server}/api/v1/credits/spend", {"amount": 1}, headers))
    assert {status for status, _ in answers} == {200}
    db.session.expire_all()
    refills = db.session.scalars(sa.select(CreditPurchase).where(CreditPurchase.automatic.is_(True))).all()
    assert [refill.status for refill in refills] == ["completed"]
    assert credits.account(user.id).current_balance == 100 - 30 + 500
    assert credits.check_ledger(user.id) == []
