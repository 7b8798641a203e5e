"""The contact center project: its configuration (``config``), the shared kernel
(``kernel``), the CRM (``crm``) and the demo (``demo``). The routing, channels and supervisor
apps sit beside this package (see docs/architecture.md)."""

# Celery's app is loaded with Django so that ``shared_task`` binds to it.
from contactcenter.config.celery import app as celery_app

__all__ = ["celery_app"]
