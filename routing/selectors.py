"""Reads for routing: the engine's snapshot, the console's state, and access checks."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, NamedTuple

from django.db import connection
from django.db.models import Prefetch, Q, QuerySet
from django.db.models.functions import Coalesce
from django.utils import timezone

from contactcenter.crm.models import CannedResponse, ContactPoint, Message
from contactcenter.crm.selectors import customer_email, message_payload, transcripts
from contactcenter.kernel.errors import NotFound
from contactcenter.kernel.lookups import sql_any_of
from routing import engine
from routing.models import (
    Agent,
    AgentChannelLimit,
    AgentSkill,
    DeclineReason,
    Disposition,
    Offer,
    PresenceStatus,
    Queue,
    RoutingConfig,
    ServiceChannel,
    Skill,
    WorkItem,
    WorkItemSkill,
)

ACTIVE_STATUSES = (WorkItem.Status.OFFERED, WorkItem.Status.ASSIGNED)
# A round looks at the first-served waiting items that some free agent could take: first
# ROUND_ITEMS_PER_FREE_UNIT per unit of free capacity (an item takes at least one), at least
# ROUND_ITEM_MINIMUM, so that with a long line and few free agents a round costs little. If
# that window leaves a free agent without work (the items in it need skills they lack, or
# they refused them), the round reads on, up to ROUND_ITEM_LIMIT, so that the items behind
# are not starved. The next round picks up the rest as agents free up.
ROUND_ITEM_LIMIT = 2000
ROUND_ITEMS_PER_FREE_UNIT = 10
ROUND_ITEM_MINIMUM = 200


def work_items_with_context() -> QuerySet[WorkItem]:
    return WorkItem.objects.select_related(
        "interaction__case__customer",
        "interaction__contact_point",
        "queue",
        "channel",
        "agent__user",
    ).prefetch_related(
        Prefetch(
            "interaction__case__customer__contact_points",
            queryset=ContactPoint.objects.order_by("kind", "value"),
        )
    )


def access_offer(agent: Agent, offer_id: int, *, for_update: bool = False) -> Offer:
    """The agent's own offer, or NotFound: an agent never sees another agent's offers."""
    offers = Offer.objects.filter(pk=offer_id, agent=agent)
    if for_update:
        offers = offers.select_for_update()
    offer = offers.first()
    if offer is None:
        raise NotFound(f"No offer {offer_id} for you.", field="offer_id")
    return offer


def access_work_item(agent: Agent, work_item_id: int, *, for_update: bool = False) -> WorkItem:
    """A work item the agent is working on, or NotFound."""
    items = WorkItem.objects.filter(
        pk=work_item_id, agent=agent, status=WorkItem.Status.ASSIGNED
    ).select_related("interaction", "agent__user", "queue__routing_config")
    if for_update:
        items = items.select_for_update(of=("self",))
    item = items.first()
    if item is None:
        raise NotFound(f"You are not working on item {work_item_id}.", field="work_item_id")
    return item


def held_by_agent(now: datetime) -> Q:
    """``held_filter`` from the agent's side of the relation, for annotations."""
    return Q(work_items__status__in=ACTIVE_STATUSES) | Q(
        work_items__status=WorkItem.Status.CLOSED, work_items__wrap_up_until__gt=now
    )


def held_filter(now: datetime | None = None) -> Q:
    """Work that holds an agent's capacity: offered, being worked, or in wrap-up."""
    held = Q(status__in=ACTIVE_STATUSES)
    return held | Q(status=WorkItem.Status.CLOSED, wrap_up_until__gt=now or timezone.now())


@dataclass
class Load:
    """What an agent holds right now."""

    units: int = 0
    items: int = 0
    per_channel: dict[int, int] = field(default_factory=dict)


def loads(agent_ids: Iterable[int], now: datetime | None = None) -> dict[int, Load]:
    """What each agent holds (``held_filter``), by channel.

    Hand-written: every round reads it for every agent and again after its commit, and the
    ORM took longer to build the grouped query than the database took to run it.
    """
    in_agents, params = sql_any_of("agent_id", list(agent_ids), connection)
    wrap_up_end = connection.ops.adapt_datetimefield_value(now or timezone.now())
    active = ", ".join(["%s"] * len(ACTIVE_STATUSES))
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            SELECT agent_id, channel_id, COUNT(*), SUM(units) FROM {WorkItem._meta.db_table}
            WHERE {in_agents}
              AND (status IN ({active}) OR (status = %s AND wrap_up_until > %s))
            GROUP BY agent_id, channel_id
            """,
            [*params, *ACTIVE_STATUSES, WorkItem.Status.CLOSED, wrap_up_end],
        )
        rows = cursor.fetchall()
    by_agent: dict[int, Load] = defaultdict(Load)
    for agent_id, channel_id, items, units in rows:
        load = by_agent[agent_id]
        load.units += units
        load.items += items
        load.per_channel[channel_id] = items
    return dict(by_agent)


def used_units(agent_ids: Iterable[int], now: datetime | None = None) -> dict[int, int]:
    return {agent_id: load.units for agent_id, load in loads(agent_ids, now).items()}


def channel_blocks() -> dict[int, frozenset[int]]:
    """Channel -> the channels an agent holding one of its items is not offered."""
    blocks: dict[int, set[int]] = defaultdict(set)
    through = ServiceChannel.blocks.through
    for from_id, to_id in through.objects.values_list(
        "from_servicechannel_id", "to_servicechannel_id"
    ):
        blocks[from_id].add(to_id)
    return {channel_id: frozenset(blocked) for channel_id, blocked in blocks.items()}


def first_customer_message(interaction_id: int) -> str:
    return _first_customer_messages([interaction_id]).get(interaction_id, "")


def last_agent_of(customer_id: int, *, exclude_interaction: int | None = None) -> int | None:
    """The agent who most recently took work from this customer, on any channel."""
    served = WorkItem.objects.filter(
        interaction__case__customer_id=customer_id, accepted_at__isnull=False
    )
    if exclude_interaction is not None:
        served = served.exclude(interaction_id=exclude_interaction)
    return served.order_by("-accepted_at", "-id").values_list("agent_id", flat=True).first()


def current_assignment(interaction_id: int) -> tuple[int | None, int | None]:
    """(work item id, agent id) of the agent working the interaction now, or (None, None)."""
    row = (
        WorkItem.objects.filter(interaction_id=interaction_id, status=WorkItem.Status.ASSIGNED)
        .values_list("pk", "agent_id")
        .first()
    )
    return row if row is not None else (None, None)


def waiting_line(queue_id: int, *, limit: int) -> list[tuple[int, int]]:
    """(interaction id, channel id) of the first items waiting in a queue, next served first."""
    return list(
        WorkItem.objects.filter(queue_id=queue_id, status=WorkItem.Status.QUEUED)
        .order_by("-priority", "enqueued_at", "id")
        .values_list("interaction_id", "channel_id")[:limit]
    )


def queue_position(item: WorkItem) -> int:
    """1 for the next item to be served in its queue, in the order of ``waiting_line``."""
    waiting = WorkItem.objects.filter(queue_id=item.queue_id, status=WorkItem.Status.QUEUED)
    ahead = waiting.filter(
        Q(priority__gt=item.priority)
        | Q(priority=item.priority, enqueued_at__lt=item.enqueued_at)
        | Q(priority=item.priority, enqueued_at=item.enqueued_at, pk__lt=item.pk)
    )
    return ahead.count() + 1


def waiting_since_before(queue_id: int, cutoff: datetime) -> list[int]:
    """Items waiting in the queue that entered it before the cutoff, oldest first."""
    entered = Coalesce("overflowed_at", "enqueued_at")
    return list(
        WorkItem.objects.filter(queue_id=queue_id, status=WorkItem.Status.QUEUED)
        .annotate(entered=entered)
        .filter(entered__lt=cutoff)
        .order_by("entered", "id")
        .values_list("pk", flat=True)
    )


def has_agent_with_room(queue_id: int, channel_id: int, units: int) -> bool:
    """Whether a member of the queue open for the channel has ``units`` of capacity free.

    A cheap over-estimate of the round's eligibility (skills, limits and blocks are left to
    the round): it only decides whether a round is worth asking for. Every arrival asks, so
    it is one hand-written statement: the ORM took ten times longer to build it than the
    database to answer it.
    """
    sql = f"""
        SELECT EXISTS (
            SELECT 1 FROM {Agent._meta.db_table} agent
            JOIN {Queue.members.through._meta.db_table} member
              ON member.agent_id = agent.id AND member.queue_id = %s
            JOIN {PresenceStatus.channels.through._meta.db_table} open_for
              ON open_for.presencestatus_id = agent.status_id AND open_for.servicechannel_id = %s
            WHERE agent.capacity - %s >= COALESCE((
                SELECT SUM(item.units) FROM {WorkItem._meta.db_table} item
                WHERE item.agent_id = agent.id
                  AND (item.status IN (%s, %s)
                       OR (item.status = %s AND item.wrap_up_until > %s))
            ), 0)
        )
    """
    params = [
        queue_id,
        channel_id,
        units,
        *ACTIVE_STATUSES,
        WorkItem.Status.CLOSED,
        timezone.now(),
    ]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return bool(cursor.fetchone()[0])


def agents_available(queue_id: int, channel_id: int) -> int:
    """Members of the queue whose presence accepts the channel right now."""
    return Agent.objects.filter(queues=queue_id, status__channels=channel_id).distinct().count()


# --- the engine's snapshot -------------------------------------------------------------------


class WaitingWork(NamedTuple):
    items: list[engine.WaitingItem]
    timeouts: dict[int, int]  # item id -> push time-out in seconds
    cut_short: bool  # the limit was reached: more items wait behind these


def round_item_window(agents: Iterable[engine.AgentState]) -> int:
    """How many waiting items a round reads first (see ROUND_ITEMS_PER_FREE_UNIT)."""
    free_units = sum(agent.free_units for agent in agents if agent.open_channel_ids)
    return min(ROUND_ITEM_LIMIT, max(ROUND_ITEM_MINIMUM, free_units * ROUND_ITEMS_PER_FREE_UNIT))


def waiting_items(
    agents: Iterable[engine.AgentState], *, limit: int = ROUND_ITEM_LIMIT
) -> WaitingWork:
    """The first ``limit`` waiting items that one of these agents could take, with each
    one's push time-out.

    Only queues and channels with an agent open for them and free capacity are read, so a
    long line in a queue nobody serves cannot crowd the others out of a round.
    """
    agents = list(agents)
    servable = {
        (queue_id, channel_id)
        for agent in agents
        if agent.free_units > 0
        for queue_id in agent.queue_ids
        for channel_id in agent.open_channel_ids
    }
    if not servable:
        return WaitingWork([], {}, cut_short=False)
    # Filtered by the servable queues and channels in SQL (cheap to build, unlike one term per
    # pair), then to the exact pairs here: a pair outside them only takes a place in the window.
    in_queues, queue_params = sql_any_of(
        "item.queue_id", sorted({queue_id for queue_id, _ in servable}), connection
    )
    in_channels, channel_params = sql_any_of(
        "item.channel_id", sorted({channel_id for _, channel_id in servable}), connection
    )
    fetched = _item_rows(
        f"{in_queues} AND {in_channels} AND item.status = %s"
        " ORDER BY config.routing_priority, item.priority DESC, item.enqueued_at, item.id"
        " LIMIT %s",
        [*queue_params, *channel_params, WorkItem.Status.QUEUED, limit],
    )
    rows = [row for row in fetched if (row["queue_id"], row["channel_id"]) in servable]
    items = _waiting_items_from_rows(rows)
    timeouts = {row["id"]: row["push_timeout_seconds"] for row in rows}
    return WaitingWork(items, timeouts, cut_short=len(fetched) == limit)


_ITEM_COLUMNS = {
    "id": "item.id",
    "queue_id": "item.queue_id",
    "channel_id": "item.channel_id",
    "priority": "item.priority",
    "enqueued_at": "item.enqueued_at",
    "units": "item.units",
    "preferred_agent_id": "item.preferred_agent_id",
    "preferred_until": "item.preferred_until",
    "routing_priority": "config.routing_priority",
    "push_timeout_seconds": "config.push_timeout_seconds",
    "routing_model": "config.routing_model",
    "capacity_percent": "config.capacity_percent",
    "aging_after_seconds": "config.aging_after_seconds",
    "aging_boost": "config.aging_boost",
}


def _item_rows(condition: str, params: list[Any]) -> list[dict[str, Any]]:
    """Work items with their queue's routing terms, as the engine needs them.

    Hand-written: a round reads this every time, and the ORM took longer to build the query
    than the database took to run it.
    """
    sql = f"""
        SELECT {", ".join(_ITEM_COLUMNS.values())}
        FROM {WorkItem._meta.db_table} item
        JOIN {Queue._meta.db_table} queue ON queue.id = item.queue_id
        JOIN {RoutingConfig._meta.db_table} config ON config.id = queue.routing_config_id
        WHERE {condition}
    """
    names = list(_ITEM_COLUMNS)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
    for row in rows:
        row["enqueued_at"] = _aware(row["enqueued_at"])
        row["preferred_until"] = _aware(row["preferred_until"])
    return rows


def _aware(value: datetime | str | None) -> datetime | None:
    """A datetime column read by hand: PostgreSQL gives it aware, SQLite naive (in UTC)."""
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value if timezone.is_aware(value) else timezone.make_aware(value, UTC)


def _waiting_items_from_rows(rows: list[dict[str, Any]]) -> list[engine.WaitingItem]:
    excluded: dict[int, set[int]] = defaultdict(set)
    needs: dict[int, list[engine.SkillNeed]] = defaultdict(list)
    for kind, item_id, other_id, min_level, drop_after in _refusals_and_needs(
        [row["id"] for row in rows]
    ):
        if kind == "r":
            excluded[item_id].add(other_id)
        else:
            needs[item_id].append(engine.SkillNeed(other_id, min_level, drop_after))
    return [
        engine.WaitingItem(
            id=row["id"],
            queue_id=row["queue_id"],
            channel_id=row["channel_id"],
            routing_priority=row["routing_priority"],
            priority=row["priority"],
            enqueued_at=row["enqueued_at"],
            units=row["units"],
            excluded_agent_ids=frozenset(excluded[row["id"]]),
            skills=tuple(needs[row["id"]]),
            routing_model=engine.RoutingModel(row["routing_model"]),
            capacity_percent=row["capacity_percent"],
            aging_after_seconds=row["aging_after_seconds"],
            aging_boost=row["aging_boost"],
            preferred_agent_id=row["preferred_agent_id"],
            preferred_until=row["preferred_until"],
        )
        for row in rows
    ]


def _refusals_and_needs(item_ids: list[int]) -> list[tuple[str, int, int, int, int | None]]:
    """The items' refusals ('r', item, agent) and skill needs ('s', item, skill, min level,
    drop after), in one statement of plain integers (a round reads them every time)."""
    refusals_of, refusal_params = sql_any_of("work_item_id", item_ids, connection)
    needs_of, need_params = sql_any_of("work_item_id", item_ids, connection)
    outcomes = ", ".join(["%s"] * len(Offer.REFUSALS))
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            SELECT 'r', work_item_id, agent_id, 0, NULL FROM {Offer._meta.db_table}
            WHERE {refusals_of} AND outcome IN ({outcomes})
            UNION ALL
            SELECT 's', work_item_id, skill_id, min_level, drop_after_seconds
            FROM {WorkItemSkill._meta.db_table} WHERE {needs_of}
            """,
            [*refusal_params, *Offer.REFUSALS, *need_params],
        )
        return cursor.fetchall()


def waiting_items_by_id(work_item_ids: Iterable[int]) -> dict[int, engine.WaitingItem]:
    """Items as the engine sees them (whatever their status), for explanations."""
    in_ids, params = sql_any_of("item.id", list(work_item_ids), connection)
    rows = _item_rows(in_ids, params)
    return {item.id: item for item in _waiting_items_from_rows(rows)}


@dataclass
class _AgentConfiguration:
    status_channels: dict[int, set[int]] = field(default_factory=lambda: defaultdict(set))
    queues: dict[int, set[int]] = field(default_factory=lambda: defaultdict(set))
    skills: dict[int, dict[int, int]] = field(default_factory=lambda: defaultdict(dict))
    own_limits: dict[int, dict[int, int]] = field(default_factory=lambda: defaultdict(dict))
    default_limits: dict[int, int] = field(default_factory=dict)


def _agent_configuration(include_offline: bool) -> _AgentConfiguration:
    """Presence channels, memberships, skills and channel limits in one statement.

    Every round reads them for every agent; one hand-written UNION of plain integers costs
    a fraction of the five ORM queries it replaces (their compilation dominated a round).
    """
    tables = {
        "status_channels": PresenceStatus.channels.through._meta.db_table,
        "members": Queue.members.through._meta.db_table,
        "skills": AgentSkill._meta.db_table,
        "limits": AgentChannelLimit._meta.db_table,
        "channels": ServiceChannel._meta.db_table,
        "agents": Agent._meta.db_table,
    }
    open_agents = (
        ""
        if include_offline
        else f"""WHERE agent_id IN (
            SELECT agent.id FROM {tables["agents"]} agent
            JOIN {tables["status_channels"]} open_for
              ON open_for.presencestatus_id = agent.status_id)"""
    )
    sql = f"""
        SELECT 'c', presencestatus_id, servicechannel_id, 0 FROM {tables["status_channels"]}
        UNION ALL SELECT 'q', agent_id, queue_id, 0 FROM {tables["members"]} {open_agents}
        UNION ALL SELECT 's', agent_id, skill_id, level FROM {tables["skills"]} {open_agents}
        UNION ALL SELECT 'l', agent_id, channel_id, max_items FROM {tables["limits"]} {open_agents}
        UNION ALL SELECT 'd', id, id, max_items_per_agent FROM {tables["channels"]}
            WHERE max_items_per_agent IS NOT NULL
    """
    config = _AgentConfiguration()
    with connection.cursor() as cursor:
        cursor.execute(sql)
        for kind, owner, target, value in cursor.fetchall():
            if kind == "c":
                config.status_channels[owner].add(target)
            elif kind == "q":
                config.queues[owner].add(target)
            elif kind == "s":
                config.skills[owner][target] = value
            elif kind == "l":
                config.own_limits[owner][target] = value
            else:
                config.default_limits[target] = value
    return config


def agent_states(
    now: datetime | None = None, *, include_offline: bool = False
) -> list[engine.AgentState]:
    """Agents whose presence accepts at least one channel (or all of them), with their load.

    Plain values, a fixed handful of queries: every round reads this for every agent.
    """
    agents = Agent.objects.all()
    if not include_offline:
        agents = agents.filter(status__channels__isnull=False).distinct()
    rows = list(
        agents.order_by("pk").values(
            "pk", "capacity", "status_id", "last_work_ended_at", "last_offered_at"
        )
    )
    agent_ids = [row["pk"] for row in rows]
    config = _agent_configuration(include_offline)
    open_by_status = {status: frozenset(ids) for status, ids in config.status_channels.items()}
    queues, skills = config.queues, config.skills
    held = loads(agent_ids, now)
    no_load = Load()
    return [
        engine.AgentState(
            id=row["pk"],
            capacity=row["capacity"],
            used_units=(load := held.get(row["pk"], no_load)).units,
            open_channel_ids=open_by_status.get(row["status_id"], frozenset()),
            queue_ids=frozenset(queues[row["pk"]]),
            idle_since=row["last_work_ended_at"],
            skills=skills[row["pk"]],
            active_items=load.items,
            channel_items=load.per_channel,
            channel_limits={**config.default_limits, **config.own_limits[row["pk"]]},
            last_offered_at=row["last_offered_at"],
        )
        for row in rows
    ]


# --- payloads for the console --------------------------------------------------------------


def agent_payload_by_id(agent_id: int) -> dict[str, Any]:
    return agent_payloads([agent_id])[0]


# What the console shows of an agent, as ``values()`` names; hand-written SQL selects the
# same columns in this order.
AGENT_PAYLOAD_FIELDS = (
    "pk",
    "capacity",
    "status_id",
    "status__name",
    "status_since",
    "user__username",
    "user__first_name",
    "user__last_name",
)


def agent_payloads(agent_ids: Iterable[int]) -> list[dict[str, Any]]:
    """What the console shows of each agent (status, capacity, load), in two queries."""
    rows = list(Agent.objects.filter(pk__any=list(agent_ids)).values(*AGENT_PAYLOAD_FIELDS))
    used = used_units(row["pk"] for row in rows)
    return [agent_payload(row, used_units=used.get(row["pk"], 0)) for row in rows]


def agent_payload(row: Mapping[str, Any], *, used_units: int = 0) -> dict[str, Any]:
    """The console's view of an agent from a row of ``AGENT_PAYLOAD_FIELDS``."""
    name = f"{row['user__first_name']} {row['user__last_name']}".strip()
    return {
        "id": row["pk"],
        "name": name or row["user__username"],
        "status_id": row["status_id"],
        "status_name": row["status__name"] or "Offline",
        "status_since": row["status_since"].isoformat(),
        "capacity": row["capacity"],
        "used_units": used_units,
    }


def open_channels(agent_ids: Iterable[int]) -> dict[int, set[int]]:
    """Agent -> the channels their presence accepts right now."""
    open_by_agent: dict[int, set[int]] = defaultdict(set)
    rows = Agent.objects.filter(
        pk__any=list(agent_ids), status__channels__isnull=False
    ).values_list("pk", "status__channels")
    for agent_id, channel_id in rows:
        open_by_agent[agent_id].add(channel_id)
    return open_by_agent


def status_payloads() -> list[dict[str, Any]]:
    statuses = PresenceStatus.objects.prefetch_related("channels")
    return [
        {
            "id": status.pk,
            "name": status.name,
            "channels": sorted(channel.kind for channel in status.channels.all()),
        }
        for status in statuses
    ]


def _first_customer_messages(interaction_ids: list[int]) -> dict[int, str]:
    first: dict[int, str] = {}
    rows = (
        Message.objects.filter(interaction_id__any=interaction_ids, sender=Message.Sender.CUSTOMER)
        .order_by("interaction_id", "created_at", "id")
        .values_list("interaction_id", "body")
    )
    for interaction_id, body in rows:
        first.setdefault(interaction_id, body)
    return first


def offer_payloads(offers: list[Offer], now: datetime) -> list[dict[str, Any]]:
    """What an agent's console shows of each offer; plain values, since a round sends many."""
    items = {
        row["pk"]: row
        for row in WorkItem.objects.filter(pk__any=[o.work_item_id for o in offers]).values(
            "pk",
            "interaction_id",
            "enqueued_at",
            "channel__kind",
            "queue__name",
            "interaction__case__customer__name",
        )
    }
    previews = _first_customer_messages([item["interaction_id"] for item in items.values()])
    payloads = []
    for offer in offers:
        item = items[offer.work_item_id]
        payloads.append(
            offer_payload(
                offer_id=offer.pk,
                work_item_id=item["pk"],
                channel=item["channel__kind"],
                queue=item["queue__name"],
                customer_name=item["interaction__case__customer__name"],
                preview=previews.get(item["interaction_id"], ""),
                enqueued_at=item["enqueued_at"],
                created_at=offer.created_at,
                expires_at=offer.expires_at,
                now=now,
            )
        )
    return payloads


# The console shows the start of the customer's first message with an offer.
PREVIEW_CHARACTERS = 280


def offer_payload(
    *,
    offer_id: int,
    work_item_id: int,
    channel: str,
    queue: str,
    customer_name: str,
    preview: str,
    enqueued_at: datetime,
    created_at: datetime,
    expires_at: datetime,
    now: datetime,
) -> dict[str, Any]:
    return {
        "offer_id": offer_id,
        "work_item_id": work_item_id,
        "channel": channel,
        "queue": queue,
        "customer_name": customer_name,
        "preview": preview[:PREVIEW_CHARACTERS],
        "waiting_since": enqueued_at.isoformat(),
        "expires_at": expires_at.isoformat(),
        "timeout_seconds": int((expires_at - created_at).total_seconds()),
        "remaining_seconds": max(int((expires_at - now).total_seconds() + 0.999), 0),
    }


# The most an item's payload carries of its case's earlier conversations.
EARLIER_MESSAGES = 200


def earlier_in_cases(items: list[WorkItem]) -> dict[int, list[dict[str, Any]]]:
    """Per case, its other conversations (a chat before this call, an email before this chat),
    oldest first, with their last EARLIER_MESSAGES messages: one query for any number."""
    current = {item.interaction_id for item in items}
    case_ids = {item.interaction.case_id for item in items}
    by_case: dict[int, dict[int, dict[str, Any]]] = {case_id: {} for case_id in case_ids}
    messages = list(
        Message.objects.filter(interaction__case_id__in=case_ids)
        .exclude(interaction_id__in=current)
        .select_related("author", "interaction__case__customer")
        .prefetch_related("attachments")
        .order_by("-created_at", "-id")[: EARLIER_MESSAGES * max(1, len(case_ids))]
    )
    for message in reversed(messages):
        interaction = message.interaction
        conversations = by_case[interaction.case_id]
        if interaction.pk not in conversations:
            conversations[interaction.pk] = {
                "interaction_id": interaction.pk,
                "channel": interaction.channel,
                "started_at": interaction.started_at.isoformat(),
                "messages": [],
            }
        conversations[interaction.pk]["messages"].append(message_payload(message))
    return {case_id: list(conversations.values()) for case_id, conversations in by_case.items()}


def work_item_payloads(items: list[WorkItem]) -> list[dict[str, Any]]:
    messages = transcripts(item.interaction_id for item in items)
    earlier = earlier_in_cases(items) if items else {}
    return [
        {
            "work_item_id": item.pk,
            "interaction_id": item.interaction_id,
            "channel": item.channel.kind,
            "queue": item.queue.name,
            "customer_name": item.interaction.case.customer.name,
            "customer_email": customer_email(item.interaction.case.customer),
            "case_number": item.interaction.case.number,
            "accepted_at": item.accepted_at.isoformat() if item.accepted_at else None,
            "units": item.units,
            "messages": [
                message_payload(message, work_item_id=item.pk)
                for message in messages[item.interaction_id]
            ],
            "customer_id": item.interaction.case.customer_id,
            # A web chat visitor's typed email, not vouched for by the site: not theirs for sure.
            "claimed_email": item.interaction.claimed_email,
            "customer_address": (
                item.interaction.contact_point.value if item.interaction.contact_point else ""
            ),
            "subject": item.interaction.subject,
            "started_at": item.interaction.started_at.isoformat(),
            "earlier": earlier.get(item.interaction.case_id, []),
        }
        for item in items
    ]


def console_snapshot(agent: Agent, now: datetime) -> dict[str, Any]:
    offers = list(
        Offer.objects.filter(agent=agent, outcome=Offer.Outcome.PENDING).order_by(
            "created_at", "id"
        )
    )
    items = list(
        work_items_with_context()
        .filter(agent=agent, status=WorkItem.Status.ASSIGNED)
        .order_by("accepted_at", "id")
    )
    return {
        "agent": agent_payload_by_id(agent.pk),
        "statuses": status_payloads(),
        "decline_reasons": list(DeclineReason.objects.filter(is_active=True).values("id", "name")),
        "dispositions": list(Disposition.objects.filter(is_active=True).values("id", "name")),
        "canned_responses": list(
            CannedResponse.objects.filter(is_active=True).values("id", "title", "body")
        ),
        "transfer_targets": {
            "queues": list(Queue.objects.order_by("name").values("id", "name")),
            "agents": [
                {
                    "id": row["pk"],
                    "name": f"{row['user__first_name']} {row['user__last_name']}".strip()
                    or row["user__username"],
                }
                for row in Agent.objects.exclude(pk=agent.pk)
                .order_by("user__first_name", "user__username")
                .values("pk", "user__first_name", "user__last_name", "user__username")
            ],
            "skills": list(Skill.objects.order_by("name").values("id", "name")),
        },
        "offers": offer_payloads(offers, now),
        "work_items": work_item_payloads(items),
    }
