from __future__ import annotations

import signal
import threading

from django.conf import settings
from django.core.management.base import BaseCommand

from channels_app.smtp import controller


class Command(BaseCommand):
    help = "Receive customers' emails over SMTP (SMTP_LISTEN_HOST:SMTP_LISTEN_PORT)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--host", default=settings.SMTP_LISTEN_HOST)
        parser.add_argument("--port", type=int, default=settings.SMTP_LISTEN_PORT)

    def handle(self, *args, host: str, port: int, **options) -> None:
        listener = controller(host=host, port=port)
        listener.start()
        self.stdout.write(f"SMTP listener on {host}:{port}", ending="\n")
        self.stdout.flush()
        stop = threading.Event()
        signal.signal(signal.SIGTERM, lambda *_: stop.set())
        signal.signal(signal.SIGINT, lambda *_: stop.set())
        try:
            stop.wait()
        finally:
            listener.stop()
