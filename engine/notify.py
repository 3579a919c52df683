"""Where reminders and escalations go besides the in-app inbox: a pluggable mail sender.

`CINFLOW_MAIL` picks it: `console` (default: the log, so nothing leaves the machine unasked),
`file:/path/to/outbox.txt` (appends), `smtp://host:port` (STARTTLS, required except to a relay
on this machine) or `smtps://host:port` (TLS from the start). Certificates are checked against
the system's authorities, or CINFLOW_SMTP_CA_FILE. CINFLOW_SMTP_USER and CINFLOW_SMTP_PASSWORD
sign in to the relay (only ever over TLS). CINFLOW_SMTP_STARTTLS=0 allows plain SMTP to another
host, knowingly.

What mail may contain: mail leaves the council's systems, so by default a mail says only that
there is a new reminder or escalation and to sign in to read it; no child's name, step name or
case detail. CINFLOW_MAIL_DETAIL=full sends the inbox message itself (which names the child and
the step) for councils whose relay and mailboxes are approved for that.
"""

from __future__ import annotations

import logging
import os
import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path
from typing import Protocol

log = logging.getLogger(__name__)
FROM_ADDRESS = os.environ.get("CINFLOW_MAIL_FROM", "cinflow@localhost")
LOOPBACK = {"localhost", "127.0.0.1", "::1"}


@dataclass(frozen=True)
class Mail:
    to: str
    subject: str
    body: str


class Sender(Protocol):
    def send(self, mail: Mail) -> None: ...


class MailRefused(RuntimeError):
    """The relay could not be used safely (no STARTTLS offered, say); nothing was sent."""


def minimal(mail: Mail) -> Mail:
    """The mail without case details: what it is about, and where to read it."""
    body = (
        "You have a new message in cinflow (a reminder or an escalation about a step).\n"
        "Sign in to cinflow to read it. This email does not include any details of the case."
    )
    return Mail(mail.to, mail.subject, body)


class ConsoleSender:
    def send(self, mail: Mail) -> None:
        log.info("mail to %s: %s", mail.to, mail.subject)


class FileSender:
    def __init__(self, path: Path) -> None:
        self.path = path

    def send(self, mail: Mail) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.path.open("a", encoding="utf-8") as out:
            out.write(f"To: {mail.to}\nSubject: {mail.subject}\n\n{mail.body}\n---\n")


class SmtpSender:
    """SMTP with TLS (STARTTLS or implicit) and optional sign-in; refuses to downgrade."""

    def __init__(
        self,
        host: str,
        port: int,
        *,
        implicit_tls: bool = False,
        starttls: bool | None = None,
        user: str | None = None,
        password: str | None = None,
        ca_file: str | None = None,
        detail: str = "minimal",
    ) -> None:
        self.host, self.port, self.implicit_tls = host, port, implicit_tls
        # STARTTLS is required unless the relay is on this machine (or switched off knowingly).
        self.starttls = (host not in LOOPBACK) if starttls is None else starttls
        self.user, self.password, self.detail = user, password, detail
        self.context = ssl.create_default_context(cafile=ca_file)

    def send(self, mail: Mail) -> None:
        if self.detail != "full":
            mail = minimal(mail)
        message = EmailMessage()
        message["From"], message["To"], message["Subject"] = FROM_ADDRESS, mail.to, mail.subject
        message.set_content(mail.body)
        if self.implicit_tls:
            smtp: smtplib.SMTP = smtplib.SMTP_SSL(
                self.host, self.port, timeout=10, context=self.context
            )
        else:
            smtp = smtplib.SMTP(self.host, self.port, timeout=10)
        with smtp:
            smtp.ehlo()
            secure = self.implicit_tls
            if not secure and self.starttls:
                if not smtp.has_extn("starttls"):
                    raise MailRefused(f"{self.host} does not offer STARTTLS; nothing was sent")
                smtp.starttls(context=self.context)
                smtp.ehlo()
                secure = True
            if self.user:
                if not secure:
                    raise MailRefused("will not send the SMTP password without TLS")
                smtp.login(self.user, self.password or "")
            smtp.send_message(message)


def sender_from_config(value: str | None = None) -> Sender:
    value = value if value is not None else os.environ.get("CINFLOW_MAIL", "console")
    if value.startswith("file:"):
        return FileSender(Path(value.removeprefix("file:")))
    for scheme, implicit, default_port in (("smtp://", False, 587), ("smtps://", True, 465)):
        if value.startswith(scheme):
            host, _, port = value.removeprefix(scheme).partition(":")
            starttls = os.environ.get("CINFLOW_SMTP_STARTTLS")
            return SmtpSender(
                host,
                int(port or default_port),
                implicit_tls=implicit,
                starttls=None if starttls is None else starttls != "0",
                user=os.environ.get("CINFLOW_SMTP_USER") or None,
                password=os.environ.get("CINFLOW_SMTP_PASSWORD"),
                ca_file=os.environ.get("CINFLOW_SMTP_CA_FILE") or None,
                detail=os.environ.get("CINFLOW_MAIL_DETAIL", "minimal"),
            )
    if value in ("", "console"):
        return ConsoleSender()
    raise ValueError(
        f'CINFLOW_MAIL "{value}" is not console, file:PATH, smtp://host:port or smtps://host:port'
    )
