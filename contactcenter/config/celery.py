from __future__ import annotations

import gc
import os

from celery import Celery
from celery.signals import (
    task_postrun,
    task_prerun,
    worker_process_init,
    worker_process_shutdown,
)

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "contactcenter.config.settings")

app = Celery("contactcenter")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@task_prerun.connect
@task_postrun.connect
def _retire_old_connections(task: object = None, **_: object) -> None:
    """As Django does around each request: close connections past CONN_MAX_AGE or broken.

    Not for eager tasks: they run inside the caller's transaction, which must stay open.
    """
    if getattr(getattr(task, "request", None), "is_eager", False):
        return
    from django.db import close_old_connections

    close_old_connections()


def freeze_startup_heap() -> None:
    """Keep the garbage collector off what a process holds for its lifetime.

    A routing round allocates tens of thousands of objects, which sets off full collections
    that walk every object of Django, Celery and the app: some 80 ms a round measured on
    this machine. Frozen objects are never walked again (Python's advice for long-lived
    processes); what is created afterwards is collected as usual.
    """
    gc.collect()
    gc.freeze()


@worker_process_init.connect
def _freeze_worker_heap(**_: object) -> None:
    freeze_startup_heap()


@worker_process_shutdown.connect
def _send_last_pushes(**_: object) -> None:
    """Pushes wait in an outbox (contactcenter.kernel.realtime): send them before the child
    process exits, which it does without running ``atexit``."""
    from contactcenter.kernel.realtime import flush_pushes

    flush_pushes()
