"""Reminder mail through an SMTP relay: STARTTLS, sign-in over TLS only, no case details."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fake_smtp import FakeRelay, self_signed

from engine import clock
from engine.notify import MailRefused
from engine.services import Engine
from engine.store.db import unit_of_work
from engine.store.models import Notification

PASSWORD = "correct horse battery"
MESSAGE = "Reminder: Complete the assessment for Ada Example is due on 7 December 2026"


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    return self_signed(tmp_path_factory.mktemp("tls"))


@pytest.fixture
def relay(certificate) -> Iterator[FakeRelay]:  # noqa: ANN001
    server = FakeRelay(*certificate)
    yield server
    server.close()


@pytest.fixture
def engine(tmp_path: Path, fixed_clock) -> Iterator[Engine]:  # noqa: ANN001
    eng = Engine(f"sqlite:///{tmp_path / 'mail.db'}")
    eng.init_db()
    eng.people.add_team("north", "portsmouth", "North CIN team")
    eng.people.add_user("sw.north", "Sam North", PASSWORD, "social_worker", ["north"],
                        email="sam@example.org")  # fmt: skip
    with unit_of_work(eng.sessions) as s:
        s.add(Notification(username="sw.north", kind="reminder", message=MESSAGE,
                           created_at=clock.now()))  # fmt: skip
    yield eng
    eng.dispose()


def smtp_env(monkeypatch, port: int, cert: Path, **extra: str) -> None:  # noqa: ANN001
    monkeypatch.setenv("CINFLOW_MAIL", f"smtp://127.0.0.1:{port}")
    monkeypatch.setenv("CINFLOW_SMTP_STARTTLS", "1")  # a loopback relay would not need it
    monkeypatch.setenv("CINFLOW_SMTP_USER", "cinflow")
    monkeypatch.setenv("CINFLOW_SMTP_PASSWORD", "relay-secret")
    monkeypatch.setenv("CINFLOW_SMTP_CA_FILE", str(cert))
    for key, value in extra.items():
        monkeypatch.setenv(key, value)


def test_mail_goes_over_starttls_signed_in_without_case_details(
    engine,
    relay,
    certificate,
    monkeypatch,  # noqa: ANN001
) -> None:
    smtp_env(monkeypatch, relay.port, certificate[0])
    monkeypatch.delenv("CINFLOW_MAIL_DETAIL", raising=False)
    assert engine.send_pending_mail() == 1
    assert relay.seen.auth == [("cinflow", "relay-secret", True)]
    ((text, over_tls),) = relay.seen.messages
    assert over_tls and "To: sam@example.org" in text
    assert "Ada Example" not in text and "Complete the assessment" not in text
    assert "Sign in to cinflow to read it" in text


def test_full_detail_only_when_asked(engine, relay, certificate, monkeypatch) -> None:  # noqa: ANN001
    smtp_env(monkeypatch, relay.port, certificate[0], CINFLOW_MAIL_DETAIL="full")
    assert engine.send_pending_mail() == 1
    ((text, over_tls),) = relay.seen.messages
    assert over_tls and "Ada Example" in text


def test_a_relay_without_starttls_gets_nothing(engine, certificate, monkeypatch) -> None:  # noqa: ANN001
    plain = FakeRelay(*certificate, offer_tls=False)
    try:
        smtp_env(monkeypatch, plain.port, certificate[0])
        with pytest.raises(MailRefused, match="STARTTLS"):
            engine.send_pending_mail()
        assert plain.seen.auth == [] and plain.seen.messages == []
    finally:
        plain.close()
    # Nothing was marked as emailed: the next sweep tries again.
    with engine.sessions() as s:
        assert s.get(Notification, 1).emailed_at is None


def test_an_untrusted_certificate_gets_nothing(engine, relay, monkeypatch, tmp_path) -> None:  # noqa: ANN001
    other, _ = self_signed(tmp_path)
    smtp_env(monkeypatch, relay.port, other)
    with pytest.raises(Exception, match="CERTIFICATE_VERIFY_FAILED|certificate verify failed"):
        engine.send_pending_mail()
    assert relay.seen.auth == [] and relay.seen.messages == []
