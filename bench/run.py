"""Folio's pages against a bare Flask hello-world, on one gunicorn config and one core.

    .venv/bin/python bench/run.py [--duration 10] [--database-url URL] [--only NAME ...]

Both servers run under ``bench/gunicorn.conf.py`` (2 workers x 4 threads) pinned to core 0;
wrk (16 connections) runs on core 1. Folio runs as in production: a fresh database (PostgreSQL's
``folio_bench`` when PostgreSQL answers on 127.0.0.1, otherwise a SQLite file) and Redis (db 9,
emptied) for rate limits, usage counters and jobs when it answers; the demo member from
``flask seed-demo``, a real sign-in and an API key. Each scenario prints requests/s, p50, p99
and its ratio to hello-world measured in the same run. Needs ``wrk`` (apt-get install wrk).

A domain adds its busiest pages to ``SCENARIOS``: a name, a path, and which credential it needs.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
DEMO_EMAIL, DEMO_PASSWORD = "demo@example.com", "folio-demo-2026!"  # webapp/cli.py's seed-demo
CONNECTIONS = 16
# One browser: the sign-in and the load send the same User-Agent, as a member's browser does.
# (Flask-Login's session protection ties the session to it; a replayed cookie from "another
# browser" would be marked not fresh and rewritten on every request, which no member causes.)
USER_AGENT = "Mozilla/5.0 (X11; Linux x86_64) folio-bench/1"


@dataclass(frozen=True)
class Scenario:
    name: str
    path: str
    credential: str  # "none", "session" or "api_key"
    target: float | None = None  # the ratio to hello-world it must reach (issue targets)


SCENARIOS = [
    Scenario("home (anonymous)", "/", "none"),
    Scenario("/profile", "/profile", "session", 0.15),
    Scenario("/settings", "/settings", "session", 0.12),
    Scenario("/settings/api-keys", "/settings/api-keys", "session"),
    Scenario("GET /api/v1/profile (API key)", "/api/v1/profile", "api_key", 0.25),
    Scenario("GET /api/v1/health", "/api/v1/health", "none"),
]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until_up(url: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(url, timeout=2)
            return
        except urllib.error.HTTPError:
            return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"{url} did not come up")


def fresh_database(url: str | None, workdir: Path) -> str:
    """A clean database for Folio: the given URL, else PostgreSQL's folio_bench, else SQLite."""
    if url:
        return url
    if shutil.which("psql") and subprocess.run(["pg_isready", "-q", "-h", "127.0.0.1"], check=False).returncode == 0:
        for sql in ("DROP DATABASE IF EXISTS folio_bench", "CREATE DATABASE folio_bench"):
            subprocess.run(["psql", "-h", "127.0.0.1", "-d", "postgres", "-qc", sql], check=True)
        return "postgresql://127.0.0.1:5432/folio_bench"
    return f"sqlite:///{workdir / 'bench.db'}"


def fresh_redis(url: str | None) -> str | None:
    """Redis as in production (rate limits, usage counters, jobs), emptied; None without one."""
    from redis import Redis
    from redis.exceptions import RedisError

    url = url or "redis://127.0.0.1:6379/9"
    try:
        Redis.from_url(url, socket_connect_timeout=1).flushdb()
    except RedisError:
        return None
    return url


def folio_env(database_url: str, redis_url: str | None, workdir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("FLASK_", "MAIL_", "REDIS_"))}
    env.update(
        FOLIO_ENV="production",
        SECRET_KEY="bench-secret-key",
        DATABASE_URL=database_url,
        STORAGE_PATH=str(workdir / "uploads"),
        MAIL_OUTBOX_DIR=str(workdir / "outbox"),
        API_LIMIT_PER_MEMBER="10000000 per hour",  # measure the pages, not the limiter's refusals
        FLASK_APP="wsgi",
    )
    if redis_url:
        env["REDIS_URL"] = redis_url
    else:
        env["RATELIMIT_STORAGE_URI"] = "memory://"
    return env


def serve(app: str, port: int, env: dict[str, str] | None = None) -> subprocess.Popen:
    """gunicorn on core 0 (the load generator gets core 1)."""
    argv = [str(BIN / "gunicorn"), "-c", str(ROOT / "bench" / "gunicorn.conf.py"), "-b", f"127.0.0.1:{port}", app]
    if shutil.which("taskset"):
        argv = ["taskset", "-c", "0", *argv]
    return subprocess.Popen(argv, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def _cookie(response, name: str) -> str:
    for header in response.headers.get_all("Set-Cookie") or []:
        if header.startswith(name + "="):
            return header.split(";", 1)[0]
    raise RuntimeError(f"no {name} cookie in the answer")


def sign_in(base: str) -> tuple[str, str]:
    """A real sign-in over HTTP: the session cookie header and a CSRF token for API writes."""
    opener = urllib.request.build_opener(_NoRedirect)
    opener.addheaders = [("User-Agent", USER_AGENT)]
    page = opener.open(base + "/auth/login")
    cookie = _cookie(page, "folio_session")
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page.read().decode()).group(1)
    form = urllib.parse.urlencode({"email": DEMO_EMAIL, "password": DEMO_PASSWORD, "csrf_token": token}).encode()
    request = urllib.request.Request(base + "/auth/login", data=form, headers={"Cookie": cookie})
    try:
        answer = opener.open(request)
    except urllib.error.HTTPError as exc:  # the 303 after signing in
        answer = exc
    cookie = _cookie(answer, "folio_session")
    settings = opener.open(urllib.request.Request(base + "/settings", headers={"Cookie": cookie}))
    csrf = re.search(r'"X-CSRFToken": "([^"]+)"', settings.read().decode().replace("&#34;", '"')).group(1)
    if any(h.startswith("folio_session=") for h in settings.headers.get_all("Set-Cookie") or []):
        cookie = _cookie(settings, "folio_session")  # the session now holds the CSRF secret
    # wrk replays this cookie as it is: a browser's next request would not get a new one either.
    again = opener.open(urllib.request.Request(base + "/settings", headers={"Cookie": cookie}))
    if any(h.startswith("folio_session=") for h in again.headers.get_all("Set-Cookie") or []):
        raise RuntimeError("the session cookie changes on every request: the load would not be one browser")
    return cookie, csrf


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def create_api_key(base: str, cookie: str, csrf: str) -> str:
    body = json.dumps({"name": "bench", "permissions": ["profile:read"], "rate_limit": 100000}).encode()
    request = urllib.request.Request(
        base + "/api/v1/api-keys",
        data=body,
        headers={"Cookie": cookie, "X-CSRFToken": csrf, "Content-Type": "application/json", "User-Agent": USER_AGENT},
    )
    return json.loads(urllib.request.urlopen(request).read())["data"]["key"]


def cpu_seconds(pid: int) -> float:
    """CPU time (user + system) used so far by the server ``pid`` and its worker processes."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for one in [pid, *_children(pid)]:
        try:
            fields = Path(f"/proc/{one}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) / tick  # utime, stime
    return total


def _children(pid: int) -> list[int]:
    found = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            found += [int(child) for child in (task / "children").read_text().split()]
        except OSError:
            continue
    return found


def wrk(url: str, duration: int, headers: dict[str, str], server: int | None = None) -> dict[str, float]:
    argv = ["wrk", "-t2", f"-c{CONNECTIONS}", f"-d{duration}s", "--latency", url]
    for name, value in {"User-Agent": USER_AGENT, **headers}.items():
        argv[1:1] = ["-H", f"{name}: {value}"]
    if shutil.which("taskset"):
        argv = ["taskset", "-c", "1", *argv]
    before = cpu_seconds(server) if server else 0.0
    output = subprocess.run(argv, capture_output=True, text=True, check=True).stdout
    used = cpu_seconds(server) - before if server else 0.0
    if "Non-2xx or 3xx responses" in output:
        raise RuntimeError(f"{url} answered errors under load:\n{output}")
    served = int(re.search(r"(\d+) requests in", output).group(1))
    return {
        # The server's CPU per answer: unlike requests/s, barely moved by other jobs on the machine.
        "cpu_ms": used * 1000 / served if served else 0.0,
        "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1)),
        "p50": _ms(re.search(r"50%\s+([\d.]+\w+)", output).group(1)),
        "p99": _ms(re.search(r"99%\s+([\d.]+\w+)", output).group(1)),
    }


def _ms(value: str) -> float:
    number, unit = re.match(r"([\d.]+)(\w+)", value).groups()
    return float(number) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=int, default=10, help="seconds per scenario")
    parser.add_argument("--database-url", help="Folio's database (default: fresh PostgreSQL or SQLite)")
    parser.add_argument("--redis-url", help="Folio's Redis (default: db 9 on 127.0.0.1 when it answers)")
    parser.add_argument("--only", nargs="*", help="scenario names (substring match)")
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args()
    if not shutil.which("wrk"):
        print("wrk is missing: apt-get install wrk", file=sys.stderr)
        return 2

    workdir = Path(tempfile.mkdtemp(prefix="folio-bench-"))
    env = folio_env(fresh_database(args.database_url, workdir), fresh_redis(args.redis_url), workdir)
    print(f"Folio on {env['DATABASE_URL']} with {env.get('REDIS_URL', 'no Redis (in-memory limits)')}")
    for command in (["db", "upgrade"], ["seed-demo"]):
        subprocess.run([str(BIN / "flask"), *command], cwd=ROOT, env=env, check=True, capture_output=True)
    hello_port, folio_port = free_port(), free_port()
    servers = [serve("bench.hello:app", hello_port), serve("wsgi:app", folio_port, env)]
    try:
        hello, folio = f"http://127.0.0.1:{hello_port}", f"http://127.0.0.1:{folio_port}"
        wait_until_up(hello + "/")
        wait_until_up(folio + "/api/v1/health")
        cookie, csrf = sign_in(folio)
        credentials = {
            "none": {},
            "session": {"Cookie": cookie},
            "api_key": {"Authorization": f"Bearer {create_api_key(folio, cookie, csrf)}"},
        }
        wrk(hello + "/", 2, {})  # warm-up
        baseline = wrk(hello + "/", args.duration, {}, servers[0].pid)
        results = [{"name": "hello-world", **baseline, "ratio": 1.0, "cpu_ratio": 1.0}]
        head = f"{'req/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'ratio':>7} {'CPU ms':>7} {'by CPU':>7}"
        print(f"{'scenario':36} {head}  target")
        figures = f"{baseline['rps']:9.0f} {baseline['p50']:8.2f} {baseline['p99']:8.2f} {1:7.1%}"
        print(f"{'hello-world':36} {figures} {baseline['cpu_ms']:7.2f} {1:7.1%}")
        for scenario in SCENARIOS:
            if args.only and not any(part in scenario.name for part in args.only):
                continue
            headers = credentials[scenario.credential]
            wrk(folio + scenario.path, 1, headers)  # warm caches and connections
            measured = wrk(folio + scenario.path, args.duration, headers, servers[1].pid)
            ratio = measured["rps"] / baseline["rps"]
            cpu_ratio = baseline["cpu_ms"] / measured["cpu_ms"] if measured["cpu_ms"] else 0.0
            verdict = (
                ""
                if scenario.target is None
                else f"≥ {scenario.target:.0%} " + ("ok" if ratio >= scenario.target else "MISSED")
            )
            figures = f"{measured['rps']:9.0f} {measured['p50']:8.2f} {measured['p99']:8.2f} {ratio:7.1%}"
            figures += f" {measured['cpu_ms']:7.2f} {cpu_ratio:7.1%}"
            print(f"{scenario.name:36} {figures}  {verdict}")
            results.append(
                {"name": scenario.name, **measured, "ratio": ratio, "cpu_ratio": cpu_ratio, "target": scenario.target}
            )
        if args.json:
            args.json.write_text(json.dumps({"database": env["DATABASE_URL"], "results": results}, indent=2))
    finally:
        for server in servers:
            server.terminate()
        for server in servers:
            server.wait(timeout=30)
        shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
