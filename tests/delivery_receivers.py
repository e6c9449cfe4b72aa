"""Real receivers for the delivery tests: an HTTP server (stdlib http.server) that records each
webhook it is posted and checks it with standardwebhooks' `Webhook.verify`, and an SMTP server
(aiosmtpd) that keeps the mail it receives. Both listen on 127.0.0.1, port 0, in a thread."""

from __future__ import annotations

import base64
import secrets
import ssl
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import yaml
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, Envelope, LoginPassword, Session
from standardwebhooks import Webhook


def new_secret() -> str:
    """A Standard Webhooks secret: whsec_ and the base64 of 32 random bytes."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


@dataclass(frozen=True)
class Post:
    """One request as the receiver got it."""

    path: str
    headers: dict[str, str]
    body: bytes

    def verified(self, secret: str) -> Any:
        """The JSON body, once `Webhook.verify` accepted the signature (raises otherwise)."""
        return Webhook(secret).verify(self.body, self.headers)


class WebhookReceiver:
    """Records every POST and answers `status`; with `hold` set it keeps each request open
    (after recording it) until `release` is set."""

    def __init__(self, status: int = 200, tls: ssl.SSLContext | None = None) -> None:
        self.secret = new_secret()
        self.status = status
        self.posts: list[Post] = []
        self.arrived = threading.Event()
        self.hold = False
        self.release = threading.Event()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self._server.daemon_threads = True
        if tls is not None:
            self._server.socket = tls.wrap_socket(self._server.socket, server_side=True)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    def url(self, host: str = "127.0.0.1", scheme: str = "http") -> str:
        return f"{scheme}://{host}:{self.port}/hooks/bookings"

    def endpoint(self, **url: str) -> dict[str, str]:
        """This receiver as an entry of the webhooks file."""
        return {"url": self.url(**url), "secret": self.secret}

    def record(self, post: Post) -> None:
        self.posts.append(post)
        self.arrived.set()

    def close(self) -> None:
        self.release.set()
        self._server.shutdown()
        self._server.server_close()


def _handler(receiver: WebhookReceiver) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            receiver.record(Post(self.path, dict(self.headers.items()), body))
            if receiver.hold:
                receiver.release.wait(60)
            try:
                self.send_response(receiver.status)
                self.send_header("Location", "http://example.com/")
                self.send_header("Content-Length", "0")
                self.end_headers()
            except OSError:
                pass  # the sender is gone (killed while the request was held)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return Handler


def webhooks_file(path: Path, sites: dict[str, list[dict[str, str]]]) -> Path:
    path.write_text(yaml.safe_dump(sites), encoding="utf-8")
    return path


# ---- SMTP ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Mail:
    mail_from: str
    rcpt_tos: tuple[str, ...]
    content: bytes
    encrypted: bool
    login: str | None


@dataclass
class Inbox:
    """The aiosmtpd handler: keeps every message with how it arrived."""

    mail: list[Mail] = field(default_factory=list)
    arrived: threading.Event = field(default_factory=threading.Event)

    async def handle_DATA(self, server: object, session: Session, envelope: Envelope) -> str:
        auth: Any = session.auth_data
        login = auth.login.decode() if session.authenticated else None
        self.mail.append(
            Mail(
                str(envelope.mail_from),
                tuple(envelope.rcpt_tos),
                bytes(envelope.original_content or b""),
                session.ssl is not None,
                login,
            )
        )
        self.arrived.set()
        return "250 OK"


class EphemeralController(Controller):
    """aiosmtpd's Controller on port 0: aiosmtpd 1.4 probes the port it was given before
    `start` returns, so it learns the bound one first (aio-libs/aiosmtpd#276)."""

    def _trigger_server(self) -> None:
        server: Any = self.server
        self.port = server.sockets[0].getsockname()[1]
        super()._trigger_server()  # type: ignore[no-untyped-call]


def smtp_server(
    inbox: Inbox, tls: ssl.SSLContext | None = None, logins: dict[str, str] | None = None
) -> EphemeralController:
    """A started SMTP server; with `tls` it offers STARTTLS; `logins` enables AUTH."""
    options: dict[str, Any] = {"tls_context": tls} if tls is not None else {}
    if logins is not None:
        options["authenticator"] = _authenticator(logins)
    controller = EphemeralController(inbox, hostname="127.0.0.1", port=0, **options)
    controller.start()
    return controller


def _authenticator(logins: dict[str, str]) -> Any:
    def authenticate(
        server: object, session: Session, envelope: Envelope, mechanism: str, data: Any
    ) -> AuthResult:
        ok = isinstance(data, LoginPassword) and logins.get(data.login.decode()) == (
            data.password.decode()
        )
        return AuthResult(success=ok, auth_data=data if ok else None)

    return authenticate
