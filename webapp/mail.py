"""Outgoing email: SMTP when configured, otherwise the log plus a local outbox folder."""

from __future__ import annotations

import logging
import smtplib
import ssl
import uuid
from email.message import EmailMessage
from email.utils import make_msgid
from pathlib import Path
from urllib.parse import urlsplit

from flask import current_app, render_template

from webapp.jobs import enqueue

log = logging.getLogger(__name__)


def link(endpoint: str, **values) -> str:
    """An absolute URL for a mail, built on ``BASE_URL``: a forged Host or X-Forwarded-Host
    header must never decide where a password-reset link points."""
    base = urlsplit(current_app.config["BASE_URL"])
    adapter = current_app.url_map.bind(base.netloc, url_scheme=base.scheme, script_name=base.path or "/")
    return adapter.build(endpoint, values, force_external=True)


def send_template(to: str, subject: str, template: str, **context) -> str | None:
    """Render ``templates/<template>.txt`` and ``.html`` and queue the message."""
    text = render_template(f"{template}.txt", **context)
    html = render_template(f"{template}.html", **context)
    return enqueue(deliver, to, subject, text, html)


def build_message(to: str, subject: str, text: str, html: str | None) -> EmailMessage:
    """A multipart message with a text part and, when given, an HTML alternative."""
    message = EmailMessage()
    message["From"] = current_app.config["MAIL_DEFAULT_SENDER"]
    message["To"] = to
    message["Subject"] = subject
    message["Message-ID"] = make_msgid(domain="folio.local")
    message.set_content(text)
    if html:
        message.add_alternative(html, subtype="html")
    return message


def deliver(to: str, subject: str, text: str, html: str | None = None) -> None:
    """The job: hand the message to SMTP, or write it to the outbox in development."""
    message = build_message(to, subject, text, html)
    config = current_app.config
    if not config.get("MAIL_SERVER"):
        _write_outbox(message)
        return
    smtp_class = smtplib.SMTP_SSL if config["MAIL_USE_SSL"] else smtplib.SMTP
    with smtp_class(config["MAIL_SERVER"], config["MAIL_PORT"], timeout=20) as smtp:
        if config["MAIL_USE_TLS"]:
            smtp.starttls(context=ssl.create_default_context())
        if config.get("MAIL_USERNAME"):
            smtp.login(config["MAIL_USERNAME"], config["MAIL_PASSWORD"] or "")
        smtp.send_message(message)


def _write_outbox(message: EmailMessage) -> None:
    outbox = Path(current_app.config["MAIL_OUTBOX_DIR"])
    outbox.mkdir(parents=True, exist_ok=True)
    path = outbox / f"{uuid.uuid4().hex}.eml"
    path.write_bytes(bytes(message))
    log.info(
        "Mail to %s (%s) written to %s:\n%s",
        message["To"],
        message["Subject"],
        path,
        message.get_body(("plain",)).get_content(),
    )


def outbox_messages(limit: int = 50) -> list[dict[str, str]]:
    """The newest messages in the development outbox, for the /dev/outbox page."""
    from email import policy
    from email.parser import BytesParser

    outbox = Path(current_app.config["MAIL_OUTBOX_DIR"])
    if not outbox.exists():
        return []
    files = sorted(outbox.glob("*.eml"), key=lambda p: p.stat().st_mtime, reverse=True)[:limit]
    messages = []
    for path in files:
        parsed = BytesParser(policy=policy.default).parsebytes(path.read_bytes())
        messages.append(
            {
                "to": parsed["To"],
                "subject": parsed["Subject"],
                "body": parsed.get_body(("plain",)).get_content(),
            }
        )
    return messages
