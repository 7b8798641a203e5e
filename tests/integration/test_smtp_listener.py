"""`manage.py run_smtp` as its own process: a real smtplib client delivers a customer's email
and it becomes a queued conversation in the database."""

from __future__ import annotations

import smtplib
import subprocess
import sys
import time
from email.message import EmailMessage
from pathlib import Path

from tests.browser.conftest import REPO, embedded_env, free_port


def test_run_smtp_receives_mail_from_a_real_client(tmp_path: Path) -> None:
    env = {**embedded_env(tmp_path), "INBOUND_EMAIL_DOMAINS": "shop.example"}
    manage = [sys.executable, str(REPO / "manage.py")]
    subprocess.run([*manage, "migrate", "--noinput", "-v0"], env=env, cwd=REPO, check=True)
    port = free_port()
    log = (tmp_path / "smtp.log").open("w")
    listener = subprocess.Popen(
        [*manage, "run_smtp", "--port", str(port)],
        env=env,
        cwd=REPO,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        mail = EmailMessage()
        mail["From"] = "Ana Lima <ana@customer.example>"
        mail["To"] = "support@shop.example"
        mail["Subject"] = "Broken kettle"
        mail["Message-ID"] = "<kettle-1@customer.example>"
        mail.set_content("The kettle I bought leaks.")
        deadline = time.monotonic() + 20
        while True:
            try:
                with smtplib.SMTP("127.0.0.1", port, timeout=5) as client:
                    client.send_message(mail)
                break
            except OSError:
                assert listener.poll() is None, (tmp_path / "smtp.log").read_text()
                assert time.monotonic() < deadline, "run_smtp did not start listening"
                time.sleep(0.2)
        with smtplib.SMTP("127.0.0.1", port, timeout=5) as client:
            refused = client.sendmail(
                "x@customer.example",
                ["someone@elsewhere.example", "support@shop.example"],
                mail.as_bytes().replace(b"kettle-1", b"kettle-2"),
            )
        assert list(refused) == ["someone@elsewhere.example"]
    finally:
        listener.terminate()
        listener.wait(10)
        log.close()
    check = subprocess.run(
        [
            *manage,
            "shell",
            "-c",
            "from contactcenter.crm.models import Message; from routing.models import WorkItem; "
            "print(sorted(Message.objects.values_list('provider_message_id', flat=True)), "
            "WorkItem.objects.get().status)",
        ],
        env=env,
        cwd=REPO,
        check=True,
        capture_output=True,
        text=True,
    )
    assert check.stdout.strip().splitlines()[-1] == (
        "['email:<kettle-1@customer.example>', 'email:<kettle-2@customer.example>'] queued"
    )
