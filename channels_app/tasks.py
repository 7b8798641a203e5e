"""Celery tasks: delivering replies and placing and connecting calls, retried on passing
failures."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from celery import Task, shared_task
from django.conf import settings
from django.utils import timezone

from channels_app import delivery, voice
from channels_app.providers import TransientDeliveryError
from contactcenter.crm.calls import CallToConnect, CallToPlace


def run_with_retries(
    task: Task,
    work: Callable[..., None],
    args: tuple[Any, ...],
    *,
    give_up: Callable[[str], None],
    countdown: float | None = None,
) -> None:
    """Run a provider call; a passing failure is retried (after 1, 2, 4… s unless
    ``countdown`` says otherwise) until the retries run out, then ``give_up`` is told why."""
    try:
        work(*args)
    except TransientDeliveryError as exc:
        if task.request.retries >= task.max_retries:
            give_up(str(exc))
            return
        if task.request.is_eager:
            # The embedded mode has no broker to hold a retry for later: try again now.
            task.apply(args=args, retries=task.request.retries + 1, throw=True)
            return
        wait = countdown if countdown is not None else 2**task.request.retries
        raise task.retry(exc=exc, countdown=wait) from exc


@shared_task(bind=True, ignore_result=True, max_retries=settings.DELIVERY_MAX_RETRIES)
def deliver_message(self, message_id: int) -> None:
    run_with_retries(
        self,
        delivery.deliver,
        (message_id,),
        give_up=lambda reason: delivery.give_up(message_id, reason),
    )


@shared_task(bind=True, ignore_result=True, max_retries=settings.DELIVERY_MAX_RETRIES)
def connect_call(self, interaction_id: int, agent_id: int) -> None:
    run_with_retries(
        self,
        voice.connect_accepted_call,
        (interaction_id, agent_id),
        give_up=lambda reason: voice.connect_failed(interaction_id, agent_id, reason),
        # A caller is waiting: retry fast.
        countdown=0.5,
    )


@shared_task(ignore_result=True)
def redeliver_stale() -> None:
    for message_id in delivery.pending_too_long(timezone.now()):
        deliver_message.delay(message_id)


@shared_task(bind=True, ignore_result=True, max_retries=settings.DELIVERY_MAX_RETRIES)
def place_call(self, call_interaction_id: int, agent_id: int, from_interaction_id: int) -> None:
    run_with_retries(
        self,
        voice.place_outbound_call,
        (call_interaction_id, agent_id, from_interaction_id),
        give_up=lambda reason: voice.call_failed(call_interaction_id, from_interaction_id, reason),
    )


# Receivers of the CRM's hooks (connected in ChannelsAppConfig.ready); each is sent once the
# CRM's transaction has committed, and queues the provider's work.


def deliver_reply(message_id: int) -> None:
    deliver_message.delay(message_id)


def place_requested_call(call: CallToPlace) -> None:
    place_call.delay(call.call_id, call.agent_id, call.from_interaction_id)


def connect_taken_call(call: CallToConnect) -> None:
    connect_call.delay(call.call_id, call.agent_id)
