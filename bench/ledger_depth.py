"""A page deep in a long ledger answers as fast as one near its top.

    .venv/bin/python bench/ledger_depth.py [--rows 1000000] [--duration 6]

Seeds the demo member with ``--rows`` ledger rows (PostgreSQL's ``generate_series`` when the
database is PostgreSQL), serves Folio as ``bench/run.py`` does (same gunicorn config, core 0,
wrk on core 1), and loads ``GET /api/v1/credits/transactions?cursor=…`` with the cursor of the
row at depth 1,000 and at the deepest depth. Prints each p50 and their ratio; the target is
p50(deep) / p50(1k) <= 1.25 (keyset pages cost the same at any depth; an OFFSET would not).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.run import (  # noqa: E402 (the path above makes the project importable)
    BIN,
    ROOT,
    USER_AGENT,
    folio_env,
    free_port,
    fresh_database,
    fresh_redis,
    serve,
    sign_in,
    wait_until_up,
    wrk,
)

TARGET = 1.25
SHALLOW = 1_000


SEED = """
import sys, uuid
from datetime import timedelta
import sqlalchemy as sa
from webapp import create_app
from webapp.extensions import db
from webapp.auth.models import User
from webapp.credits.models import CreditTransaction
from webapp.timeutil import utcnow
rows = int(sys.argv[1])
app = create_app()
with app.app_context():
    user_id = db.session.scalar(sa.select(User.id).where(User.email == "demo@example.com"))
    if db.engine.dialect.name == "postgresql":
        db.session.execute(sa.text(
            "INSERT INTO credit_transactions"
            " (id, user_id, type, description, amount, balance_after, status, created_at)"
            " SELECT gen_random_uuid(), :user_id, 'usage', 'Bench row ' || n, -1, 0, 'completed',"
            " now() - make_interval(secs => n) FROM generate_series(1, :rows) AS n"
        ), {"user_id": user_id, "rows": rows})
    else:
        now = utcnow()
        for start in range(0, rows, 50_000):
            db.session.execute(sa.insert(CreditTransaction), [
                dict(id=uuid.uuid4(), user_id=user_id, type="usage", description=f"Bench row {n}", amount=-1,
                     balance_after=0, status="completed", created_at=now - timedelta(seconds=n))
                for n in range(start + 1, min(start + 50_000, rows) + 1)])
    db.session.commit()
    if db.engine.dialect.name == "postgresql":
        db.session.execute(sa.text("ANALYZE credit_transactions"))
        db.session.commit()
"""


def seed_ledger(env: dict[str, str], rows: int) -> None:
    """``rows`` usage rows for the demo member, one a second going back in time."""
    subprocess.run([str(BIN / "python"), "-c", SEED, str(rows)], cwd=ROOT, env=env, check=True)


def cursor_at(env: dict[str, str], depth: int) -> str:
    """The cursor a client holds after paging down to ``depth`` rows."""
    script = f"""
import sqlalchemy as sa
from webapp import create_app
from webapp.extensions import db
from webapp.credits.models import CreditTransaction
from webapp.credits.schemas import encode_cursor
app = create_app()
with app.app_context():
    row = db.session.execute(sa.select(CreditTransaction.created_at, CreditTransaction.id)
        .order_by(CreditTransaction.created_at.desc(), CreditTransaction.id.desc()).offset({depth}).limit(1)).one()
    print(encode_cursor(row.created_at, row.id))
"""
    return subprocess.run(
        [str(BIN / "python"), "-c", script], cwd=ROOT, env=env, check=True, capture_output=True, text=True
    ).stdout.strip()


def credits_key(base: str, cookie: str, csrf: str) -> str:
    body = json.dumps({"name": "bench", "permissions": ["credits:read"], "rate_limit": 100000}).encode()
    request = urllib.request.Request(  # noqa: S310 (our own http URL)
        base + "/api/v1/api-keys",
        data=body,
        headers={"Cookie": cookie, "X-CSRFToken": csrf, "Content-Type": "application/json", "User-Agent": USER_AGENT},
    )
    return json.loads(urllib.request.urlopen(request).read())["data"]["key"]  # noqa: S310


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--duration", type=int, default=6, help="seconds per depth")
    parser.add_argument("--database-url", help="default: a fresh PostgreSQL folio_bench (or SQLite)")
    parser.add_argument("--redis-url", help="default: db 9 on 127.0.0.1 when it answers")
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="folio-ledger-"))
    env = folio_env(fresh_database(args.database_url, workdir), fresh_redis(args.redis_url), workdir)
    for command in (["db", "upgrade"], ["seed-demo"]):
        subprocess.run([str(BIN / "flask"), *command], cwd=ROOT, env=env, check=True, capture_output=True)
    print(f"Seeding {args.rows:,} ledger rows on {env['DATABASE_URL']} ...", flush=True)
    seed_ledger(env, args.rows)
    deep = args.rows - 100
    cursors = {f"depth {SHALLOW:,}": cursor_at(env, SHALLOW), f"depth {deep:,}": cursor_at(env, deep)}
    port = free_port()
    server = serve("wsgi:app", port, env)
    try:
        base = f"http://127.0.0.1:{port}"
        wait_until_up(base + "/api/v1/health")
        cookie, csrf = sign_in(base)
        headers = {"Authorization": f"Bearer {credits_key(base, cookie, csrf)}"}
        results = {}
        for name, cursor in cursors.items():
            url = f"{base}/api/v1/credits/transactions?limit=20&cursor={cursor}"
            wrk(url, 1, headers)  # warm-up
            results[name] = wrk(url, args.duration, headers)
            found = results[name]
            print(f"{name:18} {found['rps']:8.0f} req/s  p50 {found['p50']:6.2f} ms  p99 {found['p99']:6.2f} ms")
        shallow, deepest = results.values()
        ratio = deepest["p50"] / shallow["p50"]
        print(f"p50 deep / p50 1k = {ratio:.2f} (target <= {TARGET}): {'ok' if ratio <= TARGET else 'MISSED'}")
    finally:
        server.terminate()
        server.wait(timeout=30)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
