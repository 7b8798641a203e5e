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
    direction = models.CharField(
        max_length=16, choices=Direction.choices, default=Direction.INBOUND
    )
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.OPEN)
    started_at = models.DateTimeField(auto_now_add=True)
    ended_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-started_at", "-id"]
        indexes = [models.Index(fields=["case", "started_at"], name="interaction_case_started")]

    def __str__(self) -> str:
        return f"{self.get_channel_display()} #{self.pk}"


class Message(models.Model):
    class Sender(models.TextChoices):
        CUSTOMER = "customer", "Customer"
        AGENT = "agent", "Agent"
        SYSTEM = "system", "System"

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
        help_text="The channel provider's id; a retried delivery with the same id is stored once.",
    )

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["interaction", "created_at"], name="message_timeline")]
        constraints = [
            models.UniqueConstraint(
                fields=["interaction", "provider_message_id"],
                condition=Q(provider_message_id__isnull=False),
                name="message_provider_id_once",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_sender_display()}: {self.body[:60]}"
