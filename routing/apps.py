from django.apps import AppConfig
from django.db.models.signals import m2m_changed, post_delete, post_save


class RoutingConfigApp(AppConfig):
    name = "routing"
    verbose_name = "Routing"

    def ready(self) -> None:
        from routing import intake
        from routing.models import IntakeRule, IntakeRuleSkill, Queue, RoutingConfig, ServiceChannel

        for model in (IntakeRule, IntakeRuleSkill, Queue, RoutingConfig, ServiceChannel):
            post_save.connect(intake.rules_changed, sender=model, dispatch_uid=f"rules-{model}")
            post_delete.connect(intake.rules_changed, sender=model, dispatch_uid=f"rules-d-{model}")
        m2m_changed.connect(
            intake.rules_changed, sender=ServiceChannel.blocks.through, dispatch_uid="rules-m2m"
        )
