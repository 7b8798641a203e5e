from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db.models import Count, Q, QuerySet, Sum
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import path
from django.utils import timezone

from routing import intake
from routing.models import (
    Agent,
    AgentChannelLimit,
    AgentSkill,
    AgentStatusChange,
    DeclineReason,
    Disposition,
    IntakeRule,
    IntakeRuleSkill,
    Offer,
    PresenceStatus,
    Queue,
    RoutingConfig,
    ServiceChannel,
    Skill,
    Team,
    WorkItem,
    WorkItemSkill,
)
from routing.selectors.snapshot import held_by_agent
from routing.services.presence import set_presence


@admin.register(ServiceChannel)
class ServiceChannelAdmin(admin.ModelAdmin):
    list_display = ["name", "kind", "default_queue", "max_items_per_agent", "blocked_channels"]
    list_select_related = ["default_queue"]
    search_fields = ["name", "kind"]
    filter_horizontal = ["blocks"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[ServiceChannel]:
        return super().get_queryset(request).prefetch_related("blocks")

    @admin.display(description="While held, blocks")
    def blocked_channels(self, channel: ServiceChannel) -> str:
        return ", ".join(blocked.name for blocked in channel.blocks.all()) or "nothing"


@admin.register(PresenceStatus)
class PresenceStatusAdmin(admin.ModelAdmin):
    list_display = ["name", "accepted_channels", "position", "alert_after_seconds"]
    list_editable = ["position"]
    filter_horizontal = ["channels"]
    search_fields = ["name"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[PresenceStatus]:
        return super().get_queryset(request).prefetch_related("channels")

    @admin.display(description="Accepts")
    def accepted_channels(self, status: PresenceStatus) -> str:
        return ", ".join(channel.name for channel in status.channels.all()) or "nothing (offline)"


@admin.register(Team)
class TeamAdmin(admin.ModelAdmin):
    list_display = ["name", "size"]
    search_fields = ["name"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Team]:
        return super().get_queryset(request).annotate(size=Count("agents"))

    @admin.display(description="Agents", ordering="size")
    def size(self, team: Team) -> int:
        return team.size


@admin.register(RoutingConfig)
class RoutingConfigAdmin(admin.ModelAdmin):
    list_display = [
        "name",
        "routing_priority",
        "routing_model",
        "units_per_item",
        "capacity_percent",
        "push_timeout_seconds",
        "wrap_up_seconds",
    ]
    list_filter = ["routing_model"]
    search_fields = ["name"]
    fieldsets = [
        (None, {"fields": ["name", "routing_priority", "routing_model"]}),
        ("Capacity", {"fields": ["units_per_item", "capacity_percent", "wrap_up_seconds"]}),
        ("Offers", {"fields": ["push_timeout_seconds", "status_after_missed_offer"]}),
        (
            "Waiting",
            {"fields": ["aging_after_seconds", "aging_boost", "preferred_agent_seconds"]},
        ),
    ]


class QueueAdminForm(forms.ModelForm):
    class Meta:
        model = Queue
        fields = [
            "name",
            "routing_config",
            "members",
            "overflow_queue",
            "overflow_after_seconds",
            "max_wait_seconds",
            "max_wait_action",
            "max_wait_message",
            "max_wait_priority",
            "service_level_seconds",
            "service_level_goal",
            "alert_wait_seconds",
        ]

    def clean(self) -> dict:
        cleaned = super().clean()
        config = cleaned.get("routing_config")
        members = cleaned.get("members")
        if config is not None and config.capacity_percent is None and members:
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
    list_display = [
        "name",
        "routing_config",
        "member_count",
        "waiting",
        "overflow_queue",
        "overflow_after_seconds",
        "max_wait_seconds",
        "service_level",
    ]
    list_select_related = ["routing_config", "overflow_queue"]
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

    @admin.display(description="Service-level goal")
    def service_level(self, queue: Queue) -> str:
        return f"{queue.service_level_goal}% in {queue.service_level_seconds} s"


class QueueMembershipInline(admin.TabularInline):
    model = Queue.members.through
    extra = 0
    verbose_name = "queue membership"
    verbose_name_plural = "queue memberships"


class AgentSkillInline(admin.TabularInline):
    model = AgentSkill
    extra = 0
    autocomplete_fields = ["skill"]


class AgentChannelLimitInline(admin.TabularInline):
    model = AgentChannelLimit
    extra = 0
    verbose_name = "channel limit"
    verbose_name_plural = "channel limits (override the channel's own)"


class AgentStatusChangeInline(admin.TabularInline):
    model = AgentStatusChange
    fk_name = "agent"
    extra = 0
    fields = ["changed_at", "from_name", "to_name", "cause", "changed_by"]
    readonly_fields = fields
    can_delete = False
    ordering = ["-changed_at", "-id"]
    max_num = 0
    verbose_name_plural = "status history"

    def get_queryset(self, request: HttpRequest) -> QuerySet[AgentStatusChange]:
        return super().get_queryset(request).select_related("changed_by")


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
    list_display = ["name", "team", "status", "status_since", "capacity", "used_units"]
    list_filter = ["team", "status", "queues"]
    list_select_related = ["user", "status", "team"]
    search_fields = ["user__username", "user__first_name", "user__last_name"]
    autocomplete_fields = ["user"]
    # Presence changes go through the routing service (offers end, a round runs, consoles
    # hear of it), so the form shows presence but only the action below changes it.
    readonly_fields = ["status", "status_since", "last_work_ended_at", "last_offered_at"]
    inlines = [
        AgentSkillInline,
        QueueMembershipInline,
        AgentChannelLimitInline,
        AgentStatusChangeInline,
    ]
    actions = ["sign_out"]

    @admin.action(description="Set the selected agents offline", permissions=["change"])
    def sign_out(self, request: HttpRequest, queryset: QuerySet[Agent]) -> None:
        signed_out = 0
        for agent in queryset.exclude(status=None):
            set_presence(
                agent=agent,
                status_id=None,
                cause=AgentStatusChange.Cause.SUPERVISOR,
                changed_by=request.user,
            )
            signed_out += 1
        self.message_user(request, f"{signed_out} agent(s) set offline.", messages.SUCCESS)

    def get_queryset(self, request: HttpRequest) -> QuerySet[Agent]:
        return (
            super()
            .get_queryset(request)
            .annotate(used=Sum("work_items__units", filter=held_by_agent(timezone.now())))
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
    fields = [
        "agent",
        "outcome",
        "created_at",
        "expires_at",
        "responded_at",
        "decline_reason",
        "decline_note",
        "routing_model",
        "routing_key",
    ]
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


class WorkItemSkillInline(admin.TabularInline):
    model = WorkItemSkill
    extra = 0
    fields = ["skill", "min_level", "drop_after_seconds"]
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
    inlines = [WorkItemSkillInline, OfferInline]


@admin.register(Offer)
class OfferAdmin(ReadOnlyAdmin):
    list_display = [
        "id",
        "work_item",
        "agent",
        "outcome",
        "decline_reason",
        "routing_model",
        "created_at",
        "responded_at",
    ]
    list_filter = ["outcome", "decline_reason", "routing_model", "created_at"]
    list_select_related = ["work_item", "agent__user", "decline_reason"]
    search_fields = ["agent__user__username", "decline_note"]
    raw_id_fields = ["work_item", "agent"]


@admin.register(AgentStatusChange)
class AgentStatusChangeAdmin(ReadOnlyAdmin):
    list_display = ["changed_at", "agent", "from_name", "to_name", "cause", "changed_by"]
    list_filter = ["cause", "to_name", "changed_at"]
    list_select_related = ["agent__user", "changed_by"]
    search_fields = ["agent__user__username", "from_name", "to_name"]
    date_hierarchy = "changed_at"


@admin.register(Disposition)
class DispositionAdmin(admin.ModelAdmin):
    list_display = ["name", "position", "is_active"]
    list_editable = ["position", "is_active"]
    search_fields = ["name"]


@admin.register(DeclineReason)
class DeclineReasonAdmin(admin.ModelAdmin):
    list_display = ["name", "position", "is_active"]
    list_editable = ["position", "is_active"]
    search_fields = ["name"]


class IntakeRuleSkillInline(admin.TabularInline):
    model = IntakeRuleSkill
    extra = 0
    autocomplete_fields = ["skill"]


class SampleContactForm(forms.Form):
    channel = forms.ModelChoiceField(queryset=ServiceChannel.objects.all(), to_field_name="kind")
    customer_tier = forms.CharField(max_length=40, required=False)
    customer_language = forms.CharField(max_length=16, required=False)
    first_message = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), required=False)
    intent = forms.CharField(max_length=80, required=False, help_text="As the bot detects it.")

    def contact(self) -> intake.Contact:
        data = self.cleaned_data
        return intake.Contact(
            channel_kind=data["channel"].kind,
            customer_tier=data["customer_tier"],
            customer_language=data["customer_language"],
            first_message=data["first_message"],
            intent=data["intent"],
        )


CONDITION_FIELDS = ["channel", "customer_tier", "customer_language", "keywords", "intent"]


@admin.register(IntakeRule)
class IntakeRuleAdmin(admin.ModelAdmin):
    list_display = [
        "name",
        "position",
        "is_active",
        "channel",
        "customer_tier",
        "customer_language",
        "keywords",
        "intent",
        "queue",
        "priority",
    ]
    list_editable = ["position", "is_active"]
    list_select_related = ["channel", "queue"]
    search_fields = ["name", "keywords", "intent"]
    inlines = [IntakeRuleSkillInline]
    change_list_template = "admin/routing/intakerule/change_list.html"
    fieldsets = [
        (None, {"fields": ["name", "position", "is_active"]}),
        ("When (empty matches anything)", {"fields": CONDITION_FIELDS}),
        ("Then", {"fields": ["queue", "priority"]}),
    ]

    def get_readonly_fields(self, request: HttpRequest, obj: IntakeRule | None = None) -> list:
        # The default rule catches every contact the others leave: no conditions, always on.
        if obj is not None and obj.is_default:
            return [*CONDITION_FIELDS, "position", "is_active"]
        return []

    def has_delete_permission(self, request: HttpRequest, obj: IntakeRule | None = None) -> bool:
        if obj is not None and obj.is_default:
            return False
        return super().has_delete_permission(request, obj)

    def get_urls(self) -> list:
        test_view = self.admin_site.admin_view(self.test_view)
        return [
            path("test/", test_view, name="routing_intakerule_test"),
            *super().get_urls(),
        ]

    def test_view(self, request: HttpRequest) -> HttpResponse:
        """Try the rules on a sample contact: which rule wins, and why the others did not."""
        form = SampleContactForm(request.POST or None)
        result = None
        if request.method == "POST" and form.is_valid():
            result = intake.trial(form.contact())
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": "Test intake rules against a sample contact",
            "form": form,
            "result": result,
        }
        return TemplateResponse(request, "admin/routing/intakerule/test_rules.html", context)
