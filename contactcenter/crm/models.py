"""The CRM domain: who the customer is, what they contacted us about, and what was said."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q


class ChannelKind(models.TextChoices):
    CHAT = "chat", "Web chat"
    EMAIL = "email", "Email"
    SMS = "sms", "SMS"
    MESSAGING = "messaging", "Messaging"
    SOCIAL = "social", "Social"
    VOICE = "voice", "Voice"


class Customer(models.Model):
    name = models.CharField(max_length=120)
    notes = models.TextField(blank=True)
    tier = models.CharField(
        max_length=40, blank=True, help_text="Service tier, e.g. “gold”; intake rules route by it."
    )
    language = models.CharField(
        max_length=16, blank=True, help_text="Preferred language code, e.g. “de”."
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name", "id"]

    def __str__(self) -> str:
        return self.name


class ContactPoint(models.Model):
    """An address that reaches one customer on one kind of channel."""

    class Kind(models.TextChoices):
        EMAIL = "email", "Email"
        PHONE = "phone", "Phone (E.164)"
        PLATFORM = "platform", "Platform user id"

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="contact_points")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    value = models.CharField(max_length=254, help_text="Normalised: lower-case email, E.164 phone.")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["kind", "value"]
        constraints = [
            models.UniqueConstraint(fields=["kind", "value"], name="contact_point_unique_address"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.value}"


class Case(models.Model):
    class Status(models.TextChoices):
        OPEN = "open", "Open"
        CLOSED = "closed", "Closed"

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="cases")
    subject = models.CharField(max_length=200, blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.OPEN)
    created_at = models.DateTimeField(auto_now_add=True)
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["customer", "status"], name="case_customer_status")]
        constraints = [
            models.CheckConstraint(
                condition=Q(status="open", closed_at__isnull=True)
                | Q(status="closed", closed_at__isnull=False),
                name="case_closed_at_matches_status",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.number} {self.subject}".strip()

    @property
    def number(self) -> str:
        return f"C-{self.pk:06d}" if self.pk else "C-new"


class Interaction(models.Model):
    """One contact on one channel: a chat session, an email thread, a call."""

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        CLOSED = "closed", "Closed"

    class Direction(models.TextChoices):
        INBOUND = "inbound", "Inbound"
        OUTBOUND = "outbound", "Outbound"

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="interactions")
    channel = models.CharField(max_length=16, choices=ChannelKind.choices)
    contact_point = models.ForeignKey(
        ContactPoint,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="interactions",
        help_text="The customer's address this contact came from; replies go back to it.",
    )
    business_address = models.CharField(
        max_length=254,
        blank=True,
        help_text="Our address the customer wrote to (a phone number, page id, mailbox): "
        "replies are sent from it.",
    )
    subject = models.CharField(max_length=200, blank=True)
    external_id = models.CharField(
        max_length=200,
        blank=True,
        db_index=True,
        help_text="The provider's id of this contact as a whole, e.g. “twilio:CA…” for a call.",
    )
    duration_seconds = models.PositiveIntegerField(
        null=True, blank=True, help_text="How long a call lasted, as the provider reports it."
    )
    call_status = models.CharField(
        max_length=20, blank=True, help_text="A call's last status from its provider."
    )
    connected_agent_id = models.BigIntegerField(
        null=True, blank=True, help_text="The agent a call was put through to (routing's id)."
    )

    class BotStatus(models.TextChoices):
        NONE = "", "No bot"
        ACTIVE = "active", "Bot answering"
        RESOLVED = "resolved", "Resolved by the bot"
        HANDED_OFF = "handed_off", "Handed off to an agent"
        ABANDONED = "abandoned", "Left before the bot could help"

    bot_status = models.CharField(
        max_length=16, choices=BotStatus.choices, default=BotStatus.NONE, blank=True
    )
    claimed_email = models.EmailField(
        blank=True,
        help_text="The email an unverified web chat visitor typed: shown to the agent, but not "
        "used to join them to the customer who owns it.",
    )
    customer_connection = models.CharField(
        max_length=32,
        blank=True,
        help_text="The web chat visitor's current connection; only its closing marks them away.",
    )
    customer_away_since = models.DateTimeField(
        null=True,
        blank=True,
        help_text="A web chat visitor's page closed or reloaded at this time; the chat ends "
        "unless they come back within CHAT_RESUME_SECONDS.",
    )
    bot_intent = models.CharField(
        max_length=80, blank=True, help_text="The last intent the self-service bot detected."
    )
    bot_answers = models.PositiveSmallIntegerField(default=0)
    bot_misses = models.PositiveSmallIntegerField(default=0)
    # The intent waiting for a detail the bot asked for (an order number).
    bot_awaiting = models.CharField(max_length=80, blank=True)
    direction = models.CharField(
        max_length=16, choices=Direction.choices, default=Direction.INBOUND
    )
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.OPEN)
    started_at = models.DateTimeField(auto_now_add=True)
    ended_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-started_at", "-id"]
        indexes = [
            models.Index(fields=["case", "started_at"], name="interaction_case_started"),
            models.Index(
                fields=["contact_point", "channel", "status"], name="interaction_open_thread"
            ),
            # The idle-bot sweep reads only conversations the bot is still in.
            models.Index(
                fields=["started_at"],
                condition=Q(bot_status="active", status="open"),
                name="interaction_bot_talking",
            ),
            # The sweep reads web chats whose visitor went away, every few seconds.
            models.Index(
                fields=["customer_away_since"],
                condition=Q(customer_away_since__isnull=False),
                name="interaction_customer_away",
            ),
            # Reports count the bot's resolutions by when the conversation ended.
            models.Index(
                fields=["ended_at"],
                condition=Q(bot_status="resolved"),
                name="interaction_bot_resolved",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_channel_display()} #{self.pk}"


class Message(models.Model):
    class Sender(models.TextChoices):
        CUSTOMER = "customer", "Customer"
        AGENT = "agent", "Agent"
        SYSTEM = "system", "System"
        BOT = "bot", "Bot"

    class Delivery(models.TextChoices):
        # Messages that nothing sends out: inbound ones, and those the chat socket carries.
        NONE = "", "Not sent out"
        PENDING = "pending", "Waiting to be sent"
        SENT = "sent", "Sent"
        FAILED = "failed", "Failed"

    interaction = models.ForeignKey(Interaction, on_delete=models.CASCADE, related_name="messages")
    sender = models.CharField(max_length=16, choices=Sender.choices)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="The agent who wrote it; empty for customer and system messages.",
    )
    body = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)
    # NULL, not "", for "no provider id": the unique constraint must ignore those rows.
    provider_message_id = models.CharField(  # noqa: DJ001
        max_length=200,
        null=True,
        blank=True,
        help_text="The provider's id, prefixed by provider (“twilio:SM…”, “email:<…>”): a "
        "retried delivery with the same id is stored once.",
    )
    delivery = models.CharField(
        max_length=16, choices=Delivery.choices, default=Delivery.NONE, blank=True
    )
    internal = models.BooleanField(
        default=False, help_text="An agents' note: never shown or sent to the customer."
    )
    delivery_error = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [
            models.Index(fields=["interaction", "created_at"], name="message_timeline"),
            # The redelivery sweep reads replies still waiting for their provider.
            models.Index(
                fields=["created_at"],
                condition=Q(delivery="pending"),
                name="message_delivery_pending",
            ),
        ]
        constraints = [
            # Across interactions: a provider's retry may arrive after the thread has moved on.
            models.UniqueConstraint(
                fields=["provider_message_id"],
                condition=Q(provider_message_id__isnull=False),
                name="message_provider_id_once",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_sender_display()}: {self.body[:60]}"


class Attachment(models.Model):
    """A file a customer sent with a message (an email attachment), stored with it."""

    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="attachments")
    filename = models.CharField(max_length=255)
    content_type = models.CharField(max_length=120)
    size = models.PositiveIntegerField()
    file = models.FileField(upload_to="attachments/%Y/%m/")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["message", "id"]

    def __str__(self) -> str:
        return f"{self.filename} ({self.size} bytes)"


class CustomerMerge(models.Model):
    """A record that one customer was merged into another: who, when, and what moved."""

    survivor = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="merges")
    merged_customer_id = models.BigIntegerField(help_text="The id the merged customer had.")
    merged_name = models.CharField(max_length=120)
    moved = models.JSONField(
        default=dict,
        help_text="What moved to the survivor: contact points, case ids, and the merged "
        "customer's own fields.",
    )
    merged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    merged_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-merged_at", "-id"]

    def __str__(self) -> str:
        return f"{self.merged_name} (#{self.merged_customer_id}) into {self.survivor}"


class Order(models.Model):
    """A customer's order, which the self-service bot can look up."""

    class Status(models.TextChoices):
        PLACED = "placed", "Placed"
        PAID = "paid", "Paid"
        SHIPPED = "shipped", "Shipped"
        DELIVERED = "delivered", "Delivered"
        CANCELLED = "cancelled", "Cancelled"
        RETURNED = "returned", "Returned"

    number = models.CharField(max_length=32, unique=True)
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="orders")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PLACED)
    placed_at = models.DateTimeField()
    carrier = models.CharField(max_length=60, blank=True)
    tracking_number = models.CharField(max_length=80, blank=True)
    total = models.DecimalField(max_digits=10, decimal_places=2)

    class Meta:
        ordering = ["-placed_at", "-id"]

    def __str__(self) -> str:
        return f"Order {self.number}"


class BotIntent(models.Model):
    """Something customers ask the self-service bot, with examples of how they say it."""

    class Action(models.TextChoices):
        ANSWER = "answer", "Answer with the text"
        ORDER_STATUS = "order_status", "Look up the order named in the message"
        HANDOFF = "handoff", "Hand off to an agent"
        END = "end", "Answer and end the conversation"

    name = models.CharField(
        max_length=80,
        unique=True,
        help_text="Work handed off after this intent carries it: intake rules can match it to "
        "choose queue, skills and priority.",
    )
    examples = models.TextField(help_text="Example phrases, one per line.")
    action = models.CharField(max_length=16, choices=Action.choices, default=Action.ANSWER)
    answer = models.TextField(
        blank=True,
        help_text="What the bot says. For order lookups the placeholders {number}, {status}, "
        "{carrier} and {tracking_number} are filled in.",
    )
    position = models.PositiveSmallIntegerField(default=0)
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["position", "id"]

    def __str__(self) -> str:
        return self.name

    def example_phrases(self) -> list[str]:
        return [line.strip() for line in self.examples.splitlines() if line.strip()]


class CannedResponse(models.Model):
    """A ready answer agents insert into a reply; placeholders are filled per conversation:
    {customer_name}, {first_name}, {case_number}, {agent_name}."""

    title = models.CharField(max_length=80, unique=True)
    body = models.TextField(max_length=4000)
    position = models.PositiveSmallIntegerField(default=0, help_text="Order in the console list.")
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["position", "title"]

    def __str__(self) -> str:
        return self.title
