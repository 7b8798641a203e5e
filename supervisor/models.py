"""What supervisors did on the live floor: every action recorded with who did it."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class SupervisorAction(models.Model):
    class Kind(models.TextChoices):
        SET_PRESENCE = "set_presence", "Set an agent's presence"
        SET_PRIORITY = "set_priority", "Changed an item's priority"
        REASSIGN = "reassign", "Reassigned an item"

    kind = models.CharField(max_length=24, choices=Kind.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    agent = models.ForeignKey(
        "routing.Agent", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    work_item = models.ForeignKey(
        "routing.WorkItem", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    detail = models.JSONField(default=dict, help_text="What changed, from and to.")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} by {self.actor} at {self.created_at:%Y-%m-%d %H:%M}"


class IntervalRollup(models.Model):
    """The additive figures of one finished reporting interval, computed once from the stored
    work, offers and moves, so that the live dashboard's "today" costs O(intervals), not
    O(the day's contacts). Reports recompute from the stored rows instead; a rollup can
    always be recomputed the same way (``supervisor.history.rollup_finished_intervals``)."""

    start = models.DateTimeField(unique=True)
    end = models.DateTimeField()
    figures = models.JSONField(help_text="Counters per queue and channel, and per agent.")
    # So that the dashboard reads one row for the day so far, however late in the day.
    day_totals = models.JSONField(
        help_text="The same counters summed from local midnight to this interval's end."
    )
    computed_at = models.DateTimeField()

    class Meta:
        ordering = ["start"]

    def __str__(self) -> str:
        return f"Figures {self.start:%Y-%m-%d %H:%M}–{self.end:%H:%M}"


class QueueLine(models.Model):
    """How many work items are queued, and offered but unanswered, per queue: kept by
    database triggers on ``routing_workitem`` (migration 0003), so the dashboard reads a few
    rows per queue instead of the line. ``entered_ms`` sums the items' entry times (epoch
    milliseconds) so the average wait is one division.

    A queue and status have several rows (``slot``): on PostgreSQL each connection adds to
    the slot of its backend id, so an intake transaction and a routing round seldom wait on
    the same counter row's lock until commit. Read the sums, never one row."""

    queue = models.ForeignKey("routing.Queue", on_delete=models.CASCADE, related_name="+")
    status = models.CharField(max_length=16)
    slot = models.PositiveSmallIntegerField(default=0)
    items = models.BigIntegerField(default=0)
    entered_ms = models.BigIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["queue", "status", "slot"], name="queueline_key")
        ]

    def __str__(self) -> str:
        return f"{self.items} {self.status} in queue {self.queue_id} (slot {self.slot})"
