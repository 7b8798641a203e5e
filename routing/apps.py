from django.apps import AppConfig
from django.db.models.signals import m2m_changed, post_delete, post_save


class RoutingConfigApp(AppConfig):
    name = "routing"
    verbose_name = "Routing"

    def ready(self) -> None:
        # Imported here, once the app registry is ready (they import models): Django's place
        # for connecting receivers, not a way around an import circle.
        from contactcenter.crm.messages import message_stored
        from routing import events, intake, tasks
        from routing.services.triggers import round_wanted, wrap_up_ending

        message_stored.connect(events.message_stored)
        round_wanted.connect(tasks.queue_round)
        wrap_up_ending.connect(tasks.queue_wrap_up_end)
        for name in ("IntakeRule", "IntakeRuleSkill", "Queue", "RoutingConfig", "ServiceChannel"):
            model = self.get_model(name)
            post_save.connect(intake.rules_changed, sender=model, dispatch_uid=f"rules-{name}")
            post_delete.connect(intake.rules_changed, sender=model, dispatch_uid=f"rules-d-{name}")
        m2m_changed.connect(
            intake.rules_changed,
            sender=self.get_model("ServiceChannel").blocks.through,
            dispatch_uid="rules-m2m",
        )
