from django.apps import AppConfig


class RoutingConfigApp(AppConfig):
    name = "routing"
    verbose_name = "Routing"
