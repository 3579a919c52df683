"""A tiny SMTP relay on 127.0.0.1 for mail tests: STARTTLS and AUTH PLAIN, or neither.

It records what it saw: whether the connection was encrypted when the password and the message
arrived, the credentials, and the message text.
"""

from __future__ import annotations

import base64
import socket
import ssl
import subprocess
import threading
from dataclasses import dataclass, field
from pathlib import Path


def self_signed(folder: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 and its key, made with openssl."""
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key),
         "-out", str(cert), "-days", "1", "-subj", "/CN=127.0.0.1",
         "-addext", "subjectAltName=IP:127.0.0.1"],
        check=True, capture_output=True,
    )  # fmt: skip
    return cert, key


@dataclass
class Seen:
    auth: list[tuple[str, str, bool]] = field(default_factory=list)  # user, password, over TLS
    messages: list[tuple[str, bool]] = field(default_factory=list)  # text, over TLS


class FakeRelay:
    def __init__(self, cert: Path | None, key: Path | None, offer_tls: bool = True) -> None:
        self.seen = Seen()
        self.offer_tls = offer_tls and cert is not None
        self.context = None
        if cert is not None:
            self.context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            self.context.load_cert_chain(cert, key)
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.listener.close()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.listener.accept()
            except OSError:
                return
            try:
                self._session(conn)
            except (OSError, ssl.SSLError):
                pass
            finally:
                conn.close()

    def _session(self, conn: socket.socket) -> None:
        tls = False
        io = conn.makefile("rb")
        conn.sendall(b"220 fake relay\r\n")
        while True:
            line = io.readline().decode().rstrip("\r\n")
            if not line:
                return
            verb = line.split(" ", 1)[0].upper()
            if verb in ("EHLO", "HELO"):
                extensions = ["AUTH PLAIN"] if tls else []
                if self.offer_tls and not tls:
                    extensions.append("STARTTLS")
                lines = ["fake", *extensions]
                reply = "".join(f"250-{x}\r\n" for x in lines[:-1]) + f"250 {lines[-1]}\r\n"
                conn.sendall(reply.encode())
            elif verb == "STARTTLS":
                conn.sendall(b"220 go ahead\r\n")
                conn = self.context.wrap_socket(conn, server_side=True)
                io, tls = conn.makefile("rb"), True
            elif verb == "AUTH":
                _, user, password = base64.b64decode(line.split()[2]).decode().split("\0")
                self.seen.auth.append((user, password, tls))
                conn.sendall(b"235 ok\r\n")
            elif verb == "DATA":
                conn.sendall(b"354 go on\r\n")
                text = []
                while (part := io.readline().decode()) not in (".\r\n", ""):
                    text.append(part)
                self.seen.messages.append(("".join(text), tls))
                conn.sendall(b"250 queued\r\n")
            elif verb == "QUIT":
                conn.sendall(b"221 bye\r\n")
                return
            else:
                conn.sendall(b"250 ok\r\n")
