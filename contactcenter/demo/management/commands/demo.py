from __future__ import annotations

import threading
import time
import urllib.request

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand

from contactcenter.demo.seed import demo_logins


class Command(BaseCommand):
    help = "Migrate, seed the demo data and serve the product with Daphne (embedded mode)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)

    def handle(self, *args, host: str, port: int, **options) -> None:
        call_command("migrate", interactive=False, verbosity=0)
        call_command("seed_demo")
        base = f"http://{host}:{port}"
        self.stdout.write(
            "\nOpen:\n"
            f"  customer chat      {base}/chat/\n"
            f"  agent console      {base}/console/      (agent01 / agent-demo)\n"
            f"  supervisor view    {base}/supervisor/   (supervisor / supervisor-demo)\n"
            f"  admin              {base}/admin/        (admin / admin-demo)\n"
        )
        if settings.DEMO_TRAFFIC:
            self.stdout.write(
                "Demo traffic is on: customers start chats and agents "
                + ", ".join(login.username for login in demo_logins() if login.role == "agent")
                + " are yours; the other agents are simulated.\n"
            )
        # Background work in embedded mode starts with the first connection (Daphne has no
        # lifespan events), so knock once as soon as the server listens.
        threading.Thread(target=_knock, args=(f"{base}/healthz/",), daemon=True).start()
        from daphne.cli import CommandLineInterface

        CommandLineInterface().run(
            ["-b", host, "-p", str(port), "contactcenter.config.asgi:application"]
        )


def _knock(url: str) -> None:
    for _ in range(100):
        try:
            urllib.request.urlopen(url, timeout=2).close()
            return
        except OSError:
            time.sleep(0.2)
