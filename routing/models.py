"""Routing configuration and state: who can take what, what waits, and every offer made."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q

from contactcenter.crm.models import ChannelKind, Interaction
from routing.engine import RoutingModel

MAX_AGENT_CAPACITY = 100
MAX_PUSH_TIMEOUT_SECONDS = 600
MAX_SKILL_LEVEL = 10
# Waits configured in seconds are capped at a day: past that a contact is not waiting, it is lost.
MAX_WAIT_SETTING_SECONDS = 86_400


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
        help_text="Where new work on this channel waits when no intake rule names a queue.",
    )
    self_service = models.BooleanField(
        default=False,
        help_text="New contacts on this channel talk to the self-service bot first; it hands "
        "off to an agent when asked, when it fails to understand twice, or on a hand-off "
        "intent. Only text channels (chat, SMS, messaging, social) have a bot.",
    )
    max_items_per_agent = models.PositiveSmallIntegerField(
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(MAX_AGENT_CAPACITY)],
        help_text="The most items of this channel one agent holds at once (e.g. 1 call). "
        "Empty: only capacity limits it. An agent's own limit overrides this.",
    )
    blocks = models.ManyToManyField(
        "self",
        symmetrical=False,
        blank=True,
        related_name="blocked_by",
        help_text="While an agent holds an item of this channel, they are offered nothing on "
        "these channels (e.g. voice blocks chat). Work they already hold continues.",
    )

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(max_items_per_agent__isnull=True) | Q(max_items_per_agent__gte=1),
                name="channel_max_items_positive",
            ),
        ]

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
    auto_accept = models.BooleanField(
        default=False,
        help_text="Offers to agents in this status are accepted for them at once (no push).",
    )
    alert_after_seconds = models.PositiveIntegerField(
        null=True,
        blank=True,
        validators=[MinValueValidator(1)],
        help_text="Alert supervisors when an agent stays in this status longer than this "
        "(a break, say). Empty: never.",
    )

    class Meta:
        ordering = ["position", "name"]
        verbose_name_plural = "presence statuses"

    def __str__(self) -> str:
        return self.name


class Team(models.Model):
    """A group of agents under one team lead, for the supervisor's filters and reports."""

    name = models.CharField(max_length=80, unique=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Agent(models.Model):
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="agent"
    )
    team = models.ForeignKey(
        Team, null=True, blank=True, on_delete=models.SET_NULL, related_name="agents"
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
    # Kept on the row, not read from the offers, so that a round's snapshot costs
    # O(agents) whatever the history (round robin orders by it).
    last_offered_at = models.DateTimeField(null=True, blank=True, editable=False)
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
                # A share of capacity always fits; fixed units may not.
                RoutingConfig.objects.filter(queues__members=self, capacity_percent__isnull=True)
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
        validators=[MinValueValidator(1), MaxValueValidator(MAX_SKILL_LEVEL)],
        help_text="1 (novice) to 10.",
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


class AgentChannelLimit(models.Model):
    """An agent's own limit of items held at once on one channel."""

    agent = models.ForeignKey(Agent, on_delete=models.CASCADE, related_name="channel_limits")
    channel = models.ForeignKey(ServiceChannel, on_delete=models.CASCADE, related_name="+")
    max_items = models.PositiveSmallIntegerField(
        validators=[MinValueValidator(1), MaxValueValidator(MAX_AGENT_CAPACITY)]
    )

    class Meta:
        ordering = ["channel__name"]
        constraints = [
            models.UniqueConstraint(fields=["agent", "channel"], name="agent_channel_limit_once"),
            models.CheckConstraint(condition=Q(max_items__gte=1), name="channel_limit_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.channel}: at most {self.max_items}"


class AgentStatusChange(models.Model):
    """One presence change of one agent: the history reports and audits read."""

    class Cause(models.TextChoices):
        AGENT = "agent", "The agent"
        SUPERVISOR = "supervisor", "A supervisor"
        MISSED_OFFER = "missed_offer", "A missed offer"
        ABSENT = "absent", "Console closed"

    agent = models.ForeignKey(Agent, on_delete=models.CASCADE, related_name="status_changes")
    from_status = models.ForeignKey(
        PresenceStatus, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    to_status = models.ForeignKey(
        PresenceStatus, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Kept beside the keys so that history still reads right after a status is renamed or
    # deleted.
    from_name = models.CharField(max_length=60)
    to_name = models.CharField(max_length=60)
    changed_at = models.DateTimeField()
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="Who made the change; empty when the system made it.",
    )
    cause = models.CharField(max_length=16, choices=Cause.choices)

    class Meta:
        ordering = ["-changed_at", "-id"]
        indexes = [
            models.Index(fields=["agent", "changed_at"], name="status_change_agent_time"),
            models.Index(fields=["changed_at"], name="status_change_time"),
        ]

    def __str__(self) -> str:
        return f"{self.agent}: {self.from_name} → {self.to_name}"


class DeclineReason(models.Model):
    """A reason an agent may give for declining an offer."""

    name = models.CharField(max_length=80, unique=True)
    position = models.PositiveSmallIntegerField(default=0, help_text="Order in the console list.")
    is_active = models.BooleanField(default=True, help_text="Offered to agents in the console.")

    class Meta:
        ordering = ["position", "name"]

    def __str__(self) -> str:
        return self.name


class Disposition(models.Model):
    """How a piece of work ended, chosen by the agent when closing it (for reports)."""

    name = models.CharField(max_length=80, unique=True)
    position = models.PositiveSmallIntegerField(default=0, help_text="Order in the console list.")
    is_active = models.BooleanField(default=True, help_text="Offered to agents in the console.")

    class Meta:
        ordering = ["position", "name"]

    def __str__(self) -> str:
        return self.name


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
    routing_model = models.CharField(
        max_length=24,
        choices=[
            (model.value, model.value.replace("_", " ").capitalize()) for model in RoutingModel
        ],
        default=RoutingModel.MOST_AVAILABLE.value,
        help_text="Which eligible agent gets the item: most free capacity, fewest open items, "
        "longest since their last work ended, in turn, or the highest summed level of the "
        "required skills. Ties go to the longest idle agent.",
    )
    capacity_percent = models.PositiveSmallIntegerField(
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(100)],
        help_text="If set, an item takes this share of the agent's capacity instead of the "
        "units per item (100: the agent takes nothing else).",
    )
    aging_after_seconds = models.PositiveIntegerField(
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(MAX_WAIT_SETTING_SECONDS)],
        help_text="Once an item has waited this long, its priority rises by the aging boost.",
    )
    aging_boost = models.SmallIntegerField(default=0, help_text="Priority added by aging.")
    preferred_agent_seconds = models.PositiveIntegerField(
        default=0,
        validators=[MaxValueValidator(MAX_WAIT_SETTING_SECONDS)],
        help_text="A returning customer's item waits this long for the agent who last served "
        "them (if that agent can take it), then goes to anyone. 0: no preference.",
    )
    wrap_up_seconds = models.PositiveIntegerField(
        default=0,
        validators=[MaxValueValidator(MAX_WAIT_SETTING_SECONDS)],
        help_text="After-contact work: the item's capacity stays taken this long after close.",
    )
    status_after_missed_offer = models.ForeignKey(
        PresenceStatus,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="An agent who lets an offer time out is moved to this status (e.g. "
        "“Missed”), so that an absent agent stops receiving work. Empty: no change.",
    )

    class Meta:
        ordering = ["routing_priority", "name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(capacity_percent__isnull=True)
                | Q(capacity_percent__gte=1, capacity_percent__lte=100),
                name="capacity_percent_range",
            ),
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
        if self.aging_after_seconds is None and self.aging_boost:
            raise ValidationError(
                {"aging_after_seconds": "Say after how long the aging boost applies."}
            )
        if self.capacity_percent is not None:
            return
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
    overflow_queue = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="overflow_from",
        help_text="Where items go after waiting here for the overflow time; they keep their "
        "place in line by age.",
    )
    overflow_after_seconds = models.PositiveIntegerField(
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(MAX_WAIT_SETTING_SECONDS)],
    )
    max_wait_seconds = models.PositiveIntegerField(
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(MAX_WAIT_SETTING_SECONDS)],
        help_text="The longest an item may wait in this queue before the max-wait action.",
    )

    class MaxWaitAction(models.TextChoices):
        CLOSE = "close", "End the contact and tell the customer"
        RAISE_PRIORITY = "raise_priority", "Raise the item's priority"

    max_wait_action = models.CharField(
        max_length=16, choices=MaxWaitAction.choices, default=MaxWaitAction.CLOSE
    )
    max_wait_message = models.CharField(
        max_length=500,
        blank=True,
        default="Sorry, no one is free to help right now. Please try again later.",
        help_text="What the customer is told when the contact ends after the maximum wait.",
    )
    max_wait_priority = models.SmallIntegerField(
        default=100, help_text="The priority an item gets when the action raises it."
    )
    service_level_seconds = models.PositiveIntegerField(
        default=20,
        validators=[MinValueValidator(1), MaxValueValidator(MAX_WAIT_SETTING_SECONDS)],
        help_text="Service level counts the contacts answered within this many seconds.",
    )
    service_level_goal = models.PositiveSmallIntegerField(
        default=80,
        validators=[MinValueValidator(1), MaxValueValidator(100)],
        help_text="The share (in %) of contacts to answer within the service-level time.",
    )
    alert_wait_seconds = models.PositiveIntegerField(
        default=120,
        validators=[MinValueValidator(1), MaxValueValidator(MAX_WAIT_SETTING_SECONDS)],
        help_text="Alert supervisors when an item has waited here longer than this.",
    )

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(overflow_queue__isnull=True, overflow_after_seconds__isnull=True)
                | Q(overflow_queue__isnull=False, overflow_after_seconds__gte=1),
                name="queue_overflow_complete",
            ),
            models.CheckConstraint(
                condition=~Q(overflow_queue=models.F("id")), name="queue_no_overflow_to_self"
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        if (self.overflow_queue_id is None) != (self.overflow_after_seconds is None):
            raise ValidationError(
                {
                    "overflow_after_seconds": "Set both the overflow queue and the overflow time, "
                    "or neither."
                }
            )
        if self.overflow_queue_id is not None and self.overflow_queue_id == self.pk:
            raise ValidationError({"overflow_queue": "A queue cannot overflow into itself."})
        # A chain of overflows that comes back here would move items round for ever.
        seen = {self.pk}
        nxt = self.overflow_queue
        while nxt is not None:
            if nxt.pk in seen:
                raise ValidationError(
                    {"overflow_queue": f"Overflow from “{nxt}” leads back to this queue."}
                )
            seen.add(nxt.pk)
            nxt = nxt.overflow_queue


class WorkItem(models.Model):
    """One piece of routable work: an interaction waiting in a queue, offered or being worked."""

    class Status(models.TextChoices):
        QUEUED = "queued", "Waiting in queue"
        OFFERED = "offered", "Offered to an agent"
        ASSIGNED = "assigned", "Being worked"
        CLOSED = "closed", "Closed"
        ABANDONED = "abandoned", "Abandoned by the customer"
        EXPIRED = "expired", "Ended after the queue's maximum wait"
        TRANSFERRED = "transferred", "Transferred (a new work item carries on)"

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
    wrap_up_until = models.DateTimeField(
        null=True, blank=True, help_text="After-contact work holds the capacity until then."
    )
    intake_rule = models.ForeignKey(
        "IntakeRule",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="The intake rule that chose the queue, skills and priority.",
    )
    preferred_agent = models.ForeignKey(
        Agent,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="The agent who last served the customer, who gets the item first.",
    )
    preferred_until = models.DateTimeField(null=True, blank=True)
    overflowed_from = models.ForeignKey(
        Queue, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    overflowed_at = models.DateTimeField(null=True, blank=True)
    disposition = models.ForeignKey(
        Disposition, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    transferred_from = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="The work item an agent transferred, which this one continues.",
    )

    class Meta:
        ordering = ["enqueued_at", "id"]
        indexes = [
            models.Index(
                fields=["queue", "-priority", "enqueued_at"],
                condition=Q(status="queued"),
                name="workitem_waiting",
            ),
            # The head of each (queue, channel) line in serving order: what a round reads.
            models.Index(
                fields=["queue", "channel", "-priority", "enqueued_at", "id"],
                condition=Q(status="queued"),
                name="workitem_line_head",
            ),
            models.Index(
                fields=["agent", "status"],
                condition=Q(status__in=["offered", "assigned"]),
                name="workitem_agent_load",
            ),
            # With the index above, an agent's load (items held, wrap-up included) is read
            # from two small indexes, never by scanning the history of closed work.
            models.Index(
                fields=["agent", "wrap_up_until"],
                condition=Q(status="closed", wrap_up_until__isnull=False),
                name="workitem_agent_wrap_up",
            ),
            # The sweep reads which wrap-ups just ended, every few seconds.
            models.Index(
                fields=["wrap_up_until"],
                condition=Q(status="closed", wrap_up_until__isnull=False),
                name="workitem_wrap_up_end",
            ),
            # Reports and the dashboard's open interval read work by when things happened.
            models.Index(fields=["enqueued_at"], name="workitem_entered"),
            models.Index(fields=["accepted_at"], name="workitem_answered"),
            models.Index(fields=["closed_at"], name="workitem_ended"),
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


class WorkItemMove(models.Model):
    """A waiting item moved from one queue to another (overflow, or a supervisor), so that
    each queue's report counts what entered and left it, however many moves an item made."""

    class Cause(models.TextChoices):
        OVERFLOW = "overflow", "Overflow"
        SUPERVISOR = "supervisor", "A supervisor"

    work_item = models.ForeignKey(WorkItem, on_delete=models.CASCADE, related_name="moves")
    # Protected like WorkItem.queue: deleting a queue must not rewrite past reports.
    from_queue = models.ForeignKey(Queue, on_delete=models.PROTECT, related_name="+")
    to_queue = models.ForeignKey(Queue, on_delete=models.PROTECT, related_name="+")
    moved_at = models.DateTimeField()
    cause = models.CharField(max_length=16, choices=Cause.choices)

    class Meta:
        ordering = ["moved_at", "id"]
        indexes = [models.Index(fields=["moved_at"], name="workitem_move_time")]

    def __str__(self) -> str:
        return f"Item {self.work_item_id}: {self.from_queue_id} → {self.to_queue_id}"


class SkillRequirement(models.Model):
    """A skill the agent must hold at a minimum level, possibly only for a while."""

    skill = models.ForeignKey(Skill, on_delete=models.PROTECT, related_name="+")
    min_level = models.SmallIntegerField(
        default=1, validators=[MinValueValidator(1), MaxValueValidator(MAX_SKILL_LEVEL)]
    )
    drop_after_seconds = models.PositiveIntegerField(
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(MAX_WAIT_SETTING_SECONDS)],
        help_text="Optional need: it stops counting once the item has waited this long, so "
        "the item widens to agents without it. Empty: always required.",
    )

    class Meta:
        abstract = True
        ordering = ["skill__name"]

    def __str__(self) -> str:
        return f"{self.skill} ≥ {self.min_level}"


class WorkItemSkill(SkillRequirement):
    """A skill need of one work item, copied from its intake rule."""

    work_item = models.ForeignKey(WorkItem, on_delete=models.CASCADE, related_name="skills")

    class Meta(SkillRequirement.Meta):
        constraints = [
            models.UniqueConstraint(fields=["work_item", "skill"], name="work_item_skill_once"),
            models.CheckConstraint(
                condition=Q(min_level__gte=1) & Q(min_level__lte=MAX_SKILL_LEVEL),
                name="work_item_skill_level_range",
            ),
        ]


class Offer(models.Model):
    """One push of a work item to one agent, and how it ended."""

    class Outcome(models.TextChoices):
        PENDING = "pending", "Pending"
        ACCEPTED = "accepted", "Accepted"
        DECLINED = "declined", "Declined"
        TIMED_OUT = "timed_out", "Timed out"
        CANCELLED = "cancelled", "Cancelled"
        # Not a push: recorded on a transferred conversation's new item for the agent who
        # transferred it, so that it goes to someone else.
        TRANSFERRED = "transferred", "Transferred away by this agent"

    # The outcomes after which the agent is not offered the same item again.
    REFUSALS = (Outcome.DECLINED, Outcome.TIMED_OUT, Outcome.TRANSFERRED)

    work_item = models.ForeignKey(WorkItem, on_delete=models.CASCADE, related_name="offers")
    agent = models.ForeignKey(Agent, on_delete=models.CASCADE, related_name="offers")
    outcome = models.CharField(max_length=16, choices=Outcome.choices, default=Outcome.PENDING)
    created_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    responded_at = models.DateTimeField(null=True, blank=True)
    decline_reason = models.ForeignKey(
        DeclineReason, null=True, blank=True, on_delete=models.PROTECT, related_name="offers"
    )
    decline_note = models.CharField(max_length=200, blank=True)
    # Why the engine chose this agent: the routing model and the agent's key under it.
    routing_model = models.CharField(max_length=24, blank=True)
    routing_key = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(
                fields=["expires_at"], condition=Q(outcome="pending"), name="offer_pending_expiry"
            ),
            models.Index(fields=["responded_at"], name="offer_responded"),
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


class IntakeRule(models.Model):
    """Decides where a new contact waits: the first active rule that matches, in order, wins.

    Empty conditions match anything. The default rule matches everything and always comes
    last, so every contact finds a rule.
    """

    name = models.CharField(max_length=80, unique=True)
    position = models.PositiveIntegerField(default=100, help_text="Rules are tried in order.")
    is_active = models.BooleanField(default=True)
    is_default = models.BooleanField(default=False, editable=False)
    channel = models.ForeignKey(
        ServiceChannel,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
        help_text="Empty: any channel.",
    )
    customer_tier = models.CharField(max_length=40, blank=True, help_text="Empty: any tier.")
    customer_language = models.CharField(
        max_length=16, blank=True, help_text="A language code such as “de”. Empty: any."
    )
    keywords = models.CharField(
        max_length=500,
        blank=True,
        help_text="Comma-separated words or phrases; matches when the first message contains "
        "any of them (case-insensitive, whole words). Empty: any message.",
    )
    intent = models.CharField(
        max_length=80, blank=True, help_text="The self-service bot's detected intent. Empty: any."
    )
    queue = models.ForeignKey(
        Queue,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="Where the contact waits. Empty: the channel's default queue.",
    )
    priority = models.SmallIntegerField(default=0, help_text="The item's priority; higher first.")

    class Meta:
        ordering = ["is_default", "position", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["is_default"], condition=Q(is_default=True), name="intake_one_default_rule"
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        if self.is_default and (
            self.channel_id
            or self.customer_tier
            or self.customer_language
            or self.keywords.strip()
            or self.intent
        ):
            raise ValidationError("The default rule matches every contact; it has no conditions.")
        if self.is_default and not self.is_active:
            raise ValidationError({"is_active": "The default rule is always active."})


class IntakeRuleSkill(SkillRequirement):
    """A skill a rule requires of the agent who takes the contact."""

    rule = models.ForeignKey(IntakeRule, on_delete=models.CASCADE, related_name="skills")

    class Meta(SkillRequirement.Meta):
        constraints = [
            models.UniqueConstraint(fields=["rule", "skill"], name="intake_rule_skill_once"),
        ]
