from __future__ import annotations

from django.core.management.base import BaseCommand

from contactcenter.demo.seed import demo_logins, seed_demo


class Command(BaseCommand):
    help = "Create the demo data (queues, skills, agents, a supervisor, an admin, customers)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--no-history", action="store_true", help="Skip past customer cases.")

    def handle(self, *args, **options) -> None:
        created = seed_demo(history=not options["no_history"])
        self.stdout.write("Demo data created." if created else "Demo data already present.")
        self.stdout.write("Logins (username / password):")
        for login in demo_logins():
            self.stdout.write(f"  {login.role:<10} {login.username:<10} / {login.password}")
