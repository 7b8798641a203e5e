"""Stand-ins for providers' APIs: real HTTP and SMTP servers on 127.0.0.1 that record what
they receive and answer as scripted. Only the outside boundary is doubled; our own code runs
unchanged against them."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from aiosmtpd.controller import Controller


@dataclass
class RecordedRequest:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes

    def form(self) -> dict[str, list[str]]:
        return parse_qs(self.body.decode())

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class HttpProvider:
    """Answers each request with the next scripted (status, JSON body); the last one repeats."""

    answers: list[tuple[int, dict[str, Any]]]
    requests: list[RecordedRequest] = field(default_factory=list)
    url: str = ""

    def answer(self) -> tuple[int, dict[str, Any]]:
        return self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]


@contextmanager
def http_provider(*answers: tuple[int, dict[str, Any]]) -> Iterator[HttpProvider]:
    provider = HttpProvider(answers=list(answers))

    class Handler(BaseHTTPRequestHandler):
        def _handle(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            parts = urlsplit(self.path)
            provider.requests.append(
                RecordedRequest(
                    method=self.command,
                    path=parts.path,
                    query=parse_qs(parts.query),
                    headers={key.lower(): value for key, value in self.headers.items()},
                    body=self.rfile.read(length),
                )
            )
            status, body = provider.answer()
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_POST = _handle

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    provider.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield provider
    finally:
        server.shutdown()
        server.server_close()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class SmtpServer:
    messages: list[Any] = field(default_factory=list)
    port: int = 0
    # Each address listed here is refused with this reply.
    refuse: dict[str, str] = field(default_factory=dict)


@contextmanager
def smtp_server() -> Iterator[SmtpServer]:
    """An SMTP server that keeps every message it is sent (the provider's mail relay)."""
    record = SmtpServer()

    class Handler:
        async def handle_RCPT(self, server, session, envelope, address, options) -> str:
            if address in record.refuse:
                return record.refuse[address]
            envelope.rcpt_tos.append(address)
            return "250 OK"

        async def handle_DATA(self, server, session, envelope) -> str:
            record.messages.append(envelope)
            return "250 Message accepted"

    record.port = free_port()
    controller = Controller(Handler(), hostname="127.0.0.1", port=record.port)
    controller.start()
    try:
        yield record
    finally:
        controller.stop()
