from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db.models import Count, Q, QuerySet, Sum
from django.http import HttpRequest

import routing.services as routing_services
from routing.models import (
    Agent,
    AgentSkill,
    Offer,
    PresenceStatus,
    Queue,
    RoutingConfig,
    ServiceChannel,
    Skill,
    WorkItem,
)


@admin.register(ServiceChannel)
class ServiceChannelAdmin(admin.ModelAdmin):
    list_display = ["name", "kind", "default_queue"]
    list_select_related = ["default_queue"]
    search_fields = ["name", "kind"]


@admin.register(PresenceStatus)
class PresenceStatusAdmin(admin.ModelAdmin):
    list_display = ["name", "accepted_channels", "position"]
    list_editable = ["position"]
    filter_horizontal = ["channels"]
    search_fields = ["name"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[PresenceStatus]:
        return super().get_queryset(request).prefetch_related("channels")

    @admin.display(description="Accepts")
    def accepted_channels(self, status: PresenceStatus) -> str:
        return ", ".join(channel.name for channel in status.channels.all()) or "nothing (offline)"


@admin.register(RoutingConfig)
class RoutingConfigAdmin(admin.ModelAdmin):
    list_display = ["name", "routing_priority", "units_per_item", "push_timeout_seconds"]
    search_fields = ["name"]


class QueueAdminForm(forms.ModelForm):
    class Meta:
        model = Queue
        fields = ["name", "routing_config", "members"]

    def clean(self) -> dict:
        cleaned = super().clean()
        config = cleaned.get("routing_config")
        members = cleaned.get("members")
        if config is not None and members:
            too_small = [agent for agent in members if agent.capacity < config.units_per_item]
            if too_small:
                names = ", ".join(agent.name for agent in too_small)
                raise ValidationError(
                    {
                        "members": f"{names} cannot take this queue's work: one item takes "
                        f"{config.units_per_item} units, more than their capacity."
                    }
                )
        return cleaned


@admin.register(Queue)
class QueueAdmin(admin.ModelAdmin):
    form = QueueAdminForm
    list_display = ["name", "routing_config", "member_count", "waiting"]
    list_select_related = ["routing_config"]
    list_filter = ["routing_config"]
    search_fields = ["name"]
    filter_horizontal = ["members"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Queue]:
        return (
            super()
            .get_queryset(request)
            .annotate(
                member_count=Count("members", distinct=True),
                waiting=Count("work_items", filter=Q(work_items__status="queued"), distinct=True),
            )
        )

    @admin.display(description="Members", ordering="member_count")
    def member_count(self, queue: Queue) -> int:
        return queue.member_count

    @admin.display(description="Waiting", ordering="waiting")
    def waiting(self, queue: Queue) -> int:
        return queue.waiting


class QueueMembershipInline(admin.TabularInline):
    model = Queue.members.through
    extra = 0
    verbose_name = "queue membership"
    verbose_name_plural = "queue memberships"


class AgentSkillInline(admin.TabularInline):
    model = AgentSkill
    extra = 0
    autocomplete_fields = ["skill"]


@admin.register(Skill)
class SkillAdmin(admin.ModelAdmin):
    list_display = ["name", "description", "agent_count"]
    search_fields = ["name"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Skill]:
        return super().get_queryset(request).annotate(agent_count=Count("agents"))

    @admin.display(description="Agents", ordering="agent_count")
    def agent_count(self, skill: Skill) -> int:
        return skill.agent_count


@admin.register(Agent)
class AgentAdmin(admin.ModelAdmin):
    list_display = ["name", "status", "status_since", "capacity", "used_units"]
    list_filter = ["status", "queues"]
    list_select_related = ["user", "status"]
    search_fields = ["user__username", "user__first_name", "user__last_name"]
    autocomplete_fields = ["user"]
    # Presence changes go through the routing service (offers end, a round runs, consoles
    # hear of it), so the form shows presence but only the action below changes it.
    readonly_fields = ["status", "status_since", "last_work_ended_at"]
    inlines = [AgentSkillInline, QueueMembershipInline]
    actions = ["sign_out"]

    @admin.action(description="Set the selected agents offline", permissions=["change"])
    def sign_out(self, request: HttpRequest, queryset: QuerySet[Agent]) -> None:
        signed_out = 0
        for agent in queryset.exclude(status=None):
            routing_services.set_presence(agent=agent, status_id=None)
            signed_out += 1
        self.message_user(request, f"{signed_out} agent(s) set offline.", messages.SUCCESS)

    def get_queryset(self, request: HttpRequest) -> QuerySet[Agent]:
        return (
            super()
            .get_queryset(request)
            .annotate(
                used=Sum(
                    "work_items__units",
                    filter=Q(work_items__status__in=["offered", "assigned"]),
                )
            )
        )

    @admin.display(description="Used units")
    def used_units(self, agent: Agent) -> int:
        return agent.used or 0


class ReadOnlyAdmin(admin.ModelAdmin):
    """Routing records change only through the routing services; admin shows them for audit."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


class OfferInline(admin.TabularInline):
    model = Offer
    extra = 0
    fields = ["agent", "outcome", "created_at", "expires_at", "responded_at", "decline_reason"]
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(WorkItem)
class WorkItemAdmin(ReadOnlyAdmin):
    list_display = ["id", "status", "queue", "channel", "priority", "agent", "enqueued_at"]
    list_filter = ["status", "queue", "channel"]
    list_select_related = ["queue", "channel", "agent__user"]
    search_fields = ["interaction__case__customer__name"]
    raw_id_fields = ["interaction", "agent"]
    date_hierarchy = "enqueued_at"
    inlines = [OfferInline]


@admin.register(Offer)
class OfferAdmin(ReadOnlyAdmin):
    list_display = ["id", "work_item", "agent", "outcome", "created_at", "responded_at"]
    list_filter = ["outcome", "created_at"]
    list_select_related = ["work_item", "agent__user"]
    search_fields = ["agent__user__username", "decline_reason"]
    raw_id_fields = ["work_item", "agent"]
