from __future__ import annotations

from celery import shared_task
from django.conf import settings
from django.utils import timezone

from channels_app import delivery, voice
from channels_app.providers import TransientDeliveryError


@shared_task(bind=True, ignore_result=True, max_retries=settings.DELIVERY_MAX_RETRIES)
def deliver_message(self, message_id: int) -> None:
    try:
        delivery.deliver(message_id)
    except TransientDeliveryError as exc:
        if self.request.retries >= self.max_retries:
            delivery.give_up(message_id, str(exc))
            return
        if self.request.is_eager:
            # The embedded mode has no broker to hold a retry for later: try again now.
            self.apply(args=(message_id,), retries=self.request.retries + 1, throw=True)
            return
        # 1, 2, 4, 8… seconds: a provider that is down is not hammered.
        raise self.retry(exc=exc, countdown=2**self.request.retries) from exc


@shared_task(bind=True, ignore_result=True, max_retries=settings.DELIVERY_MAX_RETRIES)
def connect_call(self, interaction_id: int, agent_id: int) -> None:
    try:
        voice.connect_accepted_call(interaction_id, agent_id)
    except TransientDeliveryError as exc:
        if self.request.retries >= self.max_retries:
            voice.connect_failed(interaction_id, agent_id, str(exc))
            return
        if self.request.is_eager:
            self.apply(
                args=(interaction_id, agent_id), retries=self.request.retries + 1, throw=True
            )
            return
        # A caller is waiting: retry fast.
        raise self.retry(exc=exc, countdown=0.5) from exc


@shared_task(ignore_result=True)
def redeliver_stale() -> None:
    for message_id in delivery.pending_too_long(timezone.now()):
        deliver_message.delay(message_id)


@shared_task(bind=True, ignore_result=True, max_retries=settings.DELIVERY_MAX_RETRIES)
def place_call(self, call_interaction_id: int, agent_id: int, from_interaction_id: int) -> None:
    args = (call_interaction_id, agent_id, from_interaction_id)
    try:
        voice.place_outbound_call(*args)
    except TransientDeliveryError as exc:
        if self.request.retries >= self.max_retries:
            voice.call_failed(call_interaction_id, from_interaction_id, str(exc))
            return
        if self.request.is_eager:
            self.apply(args=args, retries=self.request.retries + 1, throw=True)
            return
        raise self.retry(exc=exc, countdown=2**self.request.retries) from exc
