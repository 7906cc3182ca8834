"""Background jobs: in-process without Redis, a real rq worker with it; mail goes over SMTP."""

from __future__ import annotations

import subprocess
import time

import pytest

from tests.helpers import ROOT, VENV_BIN, csrf_token, path_of, worker_env
from webapp import jobs, mail


def register(client, email: str):
    token = csrf_token(client, "/auth/register")
    response = client.post(
        "/auth/register",
        data={
            "display_name": "Job Tester",
            "email": email,
            "password": "correct-horse-battery-staple",
            "confirm": "correct-horse-battery-staple",
            "csrf_token": token,
        },
    )
    assert response.status_code == 303, response.get_data(as_text=True)


def wait_for_mail(mailbox, address: str, timeout: float = 10.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if mailbox.to(address):
            return mailbox.to(address)
        time.sleep(0.05)
    return []


def test_enqueue_runs_in_process_without_redis(app, client, mailbox):
    assert jobs.redis_connection() is None
    register(client, "inprocess@example.com")
    messages = mailbox.to("inprocess@example.com")
    assert len(messages) == 1 and messages[0]["Subject"] == "Confirm your email for Folio"
    assert "/auth/verify/" in mailbox.last_link("inprocess@example.com", "/auth/verify/")
    # The message has a text and an HTML part.
    assert messages[0].get_body(("html",)) is not None


def test_enqueue_returns_nothing_in_process(app, mailbox):
    assert jobs.enqueue(mail.deliver, "direct@example.com", "Hello", "Plain body") is None
    assert mailbox.to("direct@example.com")[0].get_body(("plain",)).get_content().strip() == "Plain body"


def test_without_smtp_mail_goes_to_the_outbox(app, monkeypatch, tmp_path):
    monkeypatch.setitem(app.config, "MAIL_SERVER", None)
    monkeypatch.setitem(app.config, "MAIL_OUTBOX_DIR", str(tmp_path))
    jobs.enqueue(mail.deliver, "dev@example.com", "Dev mail", "Follow http://localhost/x")
    [message] = mail.outbox_messages()
    assert message["to"] == "dev@example.com" and "http://localhost/x" in message["body"]


# --- A real rq worker on Redis ------------------------------------------------------------


@pytest.fixture
def rq_queue(app, redis_url):
    """The test queue on the real Redis (skipped without ``TEST_REDIS_URL``), emptied."""
    from redis import Redis
    from rq import Queue

    queue = Queue(app.config["RQ_QUEUE"], connection=Redis.from_url(redis_url))
    queue.empty()
    yield queue
    queue.empty()


@pytest.mark.services
@pytest.mark.parametrize("command", ["rq", "flask"])
def test_real_worker_delivers_the_verification_mail(app, client, mailbox, smtp_server, rq_queue, redis_url, command):
    address = f"queued-{command}@example.com"
    register(client, address)
    assert rq_queue.count == 1, "the mail job should wait on Redis"
    assert mailbox.to(address) == []
    [job] = rq_queue.jobs
    assert job.func_name == "webapp.jobs.execute" and job.args[0] == "webapp.mail:deliver"

    if command == "rq":
        argv = [str(VENV_BIN / "rq"), "worker", "--burst", "--url", redis_url, rq_queue.name]
    else:
        argv = [str(VENV_BIN / "flask"), "worker", "--burst"]
    result = subprocess.run(
        argv,
        cwd=ROOT,
        env=worker_env(smtp_server.port, rq_queue.name, redis_url),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr

    messages = wait_for_mail(mailbox, address)
    assert len(messages) == 1, result.stdout + result.stderr
    assert messages[0]["Subject"] == "Confirm your email for Folio"
    link = mailbox.last_link(address, "/auth/verify/")
    job.refresh()
    assert job.get_status() == "finished"
    assert rq_queue.count == 0
    # The link from the worker's mail verifies the account in the web app.
    assert client.get(path_of(link)).status_code == 302


@pytest.mark.services
def test_enqueue_returns_the_rq_job_id(app, rq_queue):
    job_id = jobs.enqueue(mail.deliver, "nobody@example.com", "Queued", "Body")
    assert job_id and rq_queue.job_ids == [job_id]


def test_password_reset_mail_renders_without_a_request(app, make_user, mailbox):
    """The reset job runs in a worker, outside any request: its mail must still render."""
    from webapp.auth import service as auth_service

    user = make_user()
    auth_service.send_password_reset(user.email)
    assert mailbox.to(user.email)[-1]["Subject"] == "Reset your Folio password"


@pytest.mark.services
def test_real_worker_delivers_the_password_reset_mail(
    app, client, mailbox, smtp_server, rq_queue, redis_url, make_user
):
    from tests.helpers import csrf_token

    user = make_user(email="reset-queued@example.com")
    client.post("/auth/forgot", data={"email": user.email, "csrf_token": csrf_token(client, "/auth/forgot")})
    assert rq_queue.count == 1 and mailbox.to(user.email) == []
    result = subprocess.run(
        [str(VENV_BIN / "flask"), "worker", "--burst"],
        cwd=ROOT,
        env=worker_env(smtp_server.port, rq_queue.name, redis_url),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    messages = wait_for_mail(mailbox, user.email)
    assert messages and messages[-1]["Subject"] == "Reset your Folio password", result.stdout + result.stderr
