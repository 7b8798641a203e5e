from django.apps import AppConfig

# Registers ``field__any=[...]`` on every model field before any query is built.
import contactcenter.kernel.lookups  # noqa: F401


class CrmConfig(AppConfig):
    """The CRM: customers, contact points, cases, interactions and messages.

    Its label stays ``contactcenter``, the name the app had before the project config moved
    out of it, so that its tables, migrations and permissions
    (``contactcenter.add_interaction``) keep their names.
    """

    name = "contactcenter.crm"
    label = "contactcenter"
    verbose_name = "CRM"
