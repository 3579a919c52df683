"""Where reminders and escalations go besides the in-app inbox: a pluggable mail sender.

`CINFLOW_MAIL` picks it: `console` (default: the log, so nothing leaves the machine unasked),
`file:/path/to/outbox.txt` (appends), or `smtp://host:port` (plain SMTP relay).
"""

from __future__ import annotations

import logging
import os
import smtplib
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path
from typing import Protocol

log = logging.getLogger(__name__)
FROM_ADDRESS = os.environ.get("CINFLOW_MAIL_FROM", "cinflow@localhost")


@dataclass(frozen=True)
class Mail:
    to: str
    subject: str
    body: str


class Sender(Protocol):
    def send(self, mail: Mail) -> None: ...


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
    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port

    def send(self, mail: Mail) -> None:
        message = EmailMessage()
        message["From"], message["To"], message["Subject"] = FROM_ADDRESS, mail.to, mail.subject
        message.set_content(mail.body)
        with smtplib.SMTP(self.host, self.port, timeout=10) as smtp:
            smtp.send_message(message)


def sender_from_config(value: str | None = None) -> Sender:
    value = value if value is not None else os.environ.get("CINFLOW_MAIL", "console")
    if value.startswith("file:"):
        return FileSender(Path(value.removeprefix("file:")))
    if value.startswith("smtp://"):
        host, _, port = value.removeprefix("smtp://").partition(":")
        return SmtpSender(host, int(port or 25))
    if value in ("", "console"):
        return ConsoleSender()
    raise ValueError(f'CINFLOW_MAIL "{value}" is not console, file:PATH or smtp://host:port')
