"""Routing configuration and state: who can take what, what waits, and every offer made."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q

from contactcenter.models import ChannelKind, Interaction

MAX_AGENT_CAPACITY = 100
MAX_PUSH_TIMEOUT_SECONDS = 600


class ServiceChannel(models.Model):
    """A kind of work that can be routed (web chat, email, voice...)."""

    kind = models.CharField(max_length=16, choices=ChannelKind.choices, unique=True)
    name = models.CharField(max_length=60)
    default_queue = models.ForeignKey(
        "Queue",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="Where new work on this channel waits.",
    )

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class PresenceStatus(models.Model):
    """A status an agent can pick; it accepts work only on the channels listed."""

    name = models.CharField(max_length=60, unique=True)
    channels = models.ManyToManyField(
        ServiceChannel,
        blank=True,
        related_name="presence_statuses",
        help_text="Channels an agent in this status is open for. None: offline or on a break.",
    )
    position = models.PositiveSmallIntegerField(default=0, help_text="Order in the console list.")

    class Meta:
        ordering = ["position", "name"]
        verbose_name_plural = "presence statuses"

    def __str__(self) -> str:
        return self.name


class Agent(models.Model):
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="agent"
    )
    capacity = models.SmallIntegerField(
        default=6,
        validators=[MinValueValidator(1), MaxValueValidator(MAX_AGENT_CAPACITY)],
        help_text="Units of work the agent can hold at once; each item takes its routing "
        "configuration's units.",
    )
    status = models.ForeignKey(
        PresenceStatus,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="agents",
        help_text="Empty means offline.",
    )
    status_since = models.DateTimeField(auto_now_add=True)
    last_work_ended_at = models.DateTimeField(null=True, blank=True)
    # Refreshed by every open console while it is open, so that an agent who closes the
    # browser (or whose server process dies) stops receiving work after a grace period.
    console_seen_at = models.DateTimeField(
        null=True, blank=True, editable=False, help_text="Last sign of life of an open console."
    )

    class Meta:
        ordering = ["user__username"]
        permissions = [("supervise", "Can watch the supervisor dashboard")]
        constraints = [
            models.CheckConstraint(
                condition=Q(capacity__gte=1) & Q(capacity__lte=MAX_AGENT_CAPACITY),
                name="agent_capacity_in_range",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def name(self) -> str:
        return self.user.get_full_name() or self.user.get_username()

    def clean(self) -> None:
        if self.pk and self.capacity:
            largest = (
                RoutingConfig.objects.filter(queues__members=self)
                .order_by("-units_per_item")
                .values_list("units_per_item", "name")
                .first()
            )
            if largest and largest[0] > self.capacity:
                raise ValidationError(
                    {
                        "capacity": f"Capacity {self.capacity} is smaller than the "
                        f"{largest[0]} units one item of routing configuration "
                        f"“{largest[1]}” takes; this agent could never take that work."
                    }
                )


class Skill(models.Model):
    name = models.CharField(max_length=80, unique=True)
    description = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class AgentSkill(models.Model):
    agent = models.ForeignKey(Agent, on_delete=models.CASCADE, related_name="skills")
    skill = models.ForeignKey(Skill, on_delete=models.CASCADE, related_name="agents")
    level = models.SmallIntegerField(
        validators=[MinValueValidator(1), MaxValueValidator(10)], help_text="1 (novice) to 10."
    )

    class Meta:
        ordering = ["skill__name"]
        constraints = [
            models.UniqueConstraint(fields=["agent", "skill"], name="agent_skill_once"),
            models.CheckConstraint(
                condition=Q(level__gte=1) & Q(level__lte=10), name="agent_skill_level_range"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.skill} {self.level}"


class RoutingConfig(models.Model):
    name = models.CharField(max_length=80, unique=True)
    routing_priority = models.SmallIntegerField(
        default=10,
        validators=[MinValueValidator(1)],
        help_text="Queues with a lower number are served first (1 = first).",
    )
    units_per_item = models.SmallIntegerField(
        default=2,
        validators=[MinValueValidator(1), MaxValueValidator(MAX_AGENT_CAPACITY)],
        help_text="Capacity units one work item takes from an agent.",
    )
    push_timeout_seconds = models.SmallIntegerField(
        default=30,
        validators=[MinValueValidator(1), MaxValueValidator(MAX_PUSH_TIMEOUT_SECONDS)],
        help_text="How long an agent has to accept an offer before it returns to the queue.",
    )

    class Meta:
        ordering = ["routing_priority", "name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(routing_priority__gte=1), name="routing_priority_positive"
            ),
            models.CheckConstraint(condition=Q(units_per_item__gte=1), name="units_positive"),
            models.CheckConstraint(
                condition=Q(push_timeout_seconds__gte=1), name="push_timeout_positive"
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        largest_capacity = Agent.objects.order_by("-capacity").values_list("capacity", flat=True)
        largest = largest_capacity.first()
        if largest is not None and self.units_per_item and self.units_per_item > largest:
            raise ValidationError(
                {
                    "units_per_item": f"{self.units_per_item} units is more than any agent's "
                    f"capacity (the largest is {largest}); no agent could ever take this work."
                }
            )


class Queue(models.Model):
    name = models.CharField(max_length=80, unique=True)
    routing_config = models.ForeignKey(
        RoutingConfig, on_delete=models.PROTECT, related_name="queues"
    )
    members = models.ManyToManyField(Agent, blank=True, related_name="queues")

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class WorkItem(models.Model):
    """One piece of routable work: an interaction waiting in a queue, offered or being worked."""

    class Status(models.TextChoices):
        QUEUED = "queued", "Waiting in queue"
        OFFERED = "offered", "Offered to an agent"
        ASSIGNED = "assigned", "Being worked"
        CLOSED = "closed", "Closed"
        ABANDONED = "abandoned", "Abandoned by the customer"

    interaction = models.ForeignKey(
        Interaction, on_delete=models.CASCADE, related_name="work_items"
    )
    channel = models.ForeignKey(ServiceChannel, on_delete=models.PROTECT, related_name="+")
    queue = models.ForeignKey(Queue, on_delete=models.PROTECT, related_name="work_items")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.QUEUED)
    priority = models.SmallIntegerField(default=0, help_text="Higher is served first.")
    units = models.PositiveSmallIntegerField(
        help_text="Capacity units taken while offered or worked."
    )
    agent = models.ForeignKey(
        Agent,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="work_items",
        help_text="The agent it is offered to or assigned to.",
    )
    enqueued_at = models.DateTimeField()
    accepted_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["enqueued_at", "id"]
        indexes = [
            models.Index(
                fields=["queue", "-priority", "enqueued_at"],
                condition=Q(status="queued"),
                name="workitem_waiting",
            ),
            models.Index(
                fields=["agent", "status"],
                condition=Q(status__in=["offered", "assigned"]),
                name="workitem_agent_load",
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=["offered", "assigned"], agent__isnull=False)
                | ~Q(status__in=["offered", "assigned"]),
                name="workitem_active_has_agent",
            ),
            models.CheckConstraint(
                condition=~Q(status="queued") | Q(agent__isnull=True),
                name="workitem_queued_has_no_agent",
            ),
            models.CheckConstraint(condition=Q(units__gte=1), name="workitem_units_positive"),
        ]

    def __str__(self) -> str:
        return f"Work item {self.pk} ({self.get_status_display()})"


class Offer(models.Model):
    """One push of a work item to one agent, and how it ended."""

    class Outcome(models.TextChoices):
        PENDING = "pending", "Pending"
        ACCEPTED = "accepted", "Accepted"
        DECLINED = "declined", "Declined"
        TIMED_OUT = "timed_out", "Timed out"
        CANCELLED = "cancelled", "Cancelled"

    # The outcomes after which the agent is not offered the same item again.
    REFUSALS = (Outcome.DECLINED, Outcome.TIMED_OUT)

    work_item = models.ForeignKey(WorkItem, on_delete=models.CASCADE, related_name="offers")
    agent = models.ForeignKey(Agent, on_delete=models.CASCADE, related_name="offers")
    outcome = models.CharField(max_length=16, choices=Outcome.choices, default=Outcome.PENDING)
    created_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    responded_at = models.DateTimeField(null=True, blank=True)
    decline_reason = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(
                fields=["expires_at"], condition=Q(outcome="pending"), name="offer_pending_expiry"
            ),
        ]
        constraints = [
            # An agent who declined or missed an item is never offered it again; an offer
            # cancelled by the system (the agent went on a break) does not count against them.
            models.UniqueConstraint(
                fields=["work_item", "agent"],
                condition=~Q(outcome="cancelled"),
                name="offer_once_per_agent",
            ),
            models.UniqueConstraint(
                fields=["work_item"],
                condition=Q(outcome="pending"),
                name="offer_one_pending_per_item",
            ),
            models.CheckConstraint(
                condition=Q(expires_at__gt=models.F("created_at")), name="offer_expires_after"
            ),
        ]

    def __str__(self) -> str:
        return f"Offer {self.pk} of item {self.work_item_id} to {self.agent_id} ({self.outcome})"
