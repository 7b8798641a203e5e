from django.apps import AppConfig


class ContactCenterConfig(AppConfig):
    name = "contactcenter"
    verbose_name = "CRM"

    def ready(self) -> None:
        from contactcenter import lookups  # noqa: F401  (registers ``__any``)
