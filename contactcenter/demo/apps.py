from django.apps import AppConfig


class DemoConfig(AppConfig):
    """Demo data and live demo traffic (``manage.py demo``, ``manage.py seed_demo``)."""

    name = "contactcenter.demo"
    verbose_name = "Demo"
