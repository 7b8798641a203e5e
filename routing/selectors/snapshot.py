"""The snapshot a routing round plans from: waiting items and agents' states, as plain
values the engine takes, read in a fixed handful of hand-written statements (every round
reads them)."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, NamedTuple

from django.db import connection
from django.db.models import Q
from django.utils import timezone

from contactcenter.kernel.lookups import sql_any_of
from routing import engine
from routing.models import (
    Agent,
    AgentChannelLimit,
    AgentSkill,
    Offer,
    PresenceStatus,
    Queue,
    RoutingConfig,
    ServiceChannel,
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

    Only the heads of the lines these agents serve are read: per (queue, channel) that an
    agent with free capacity is in and open for, the first ``limit`` items in serving order,
    by the ``workitem_line_head`` index. The first ``limit`` of them all, in the round's
    order, are then read in full. So a round costs what the agents with room can take, not
    the length of the lines: with 100,000 waiting, a sort of the whole line took a second.
    """
    agents = list(agents)
    servable = sorted(
        {
            (queue_id, channel_id)
            for agent in agents
            if agent.free_units > 0
            for queue_id in agent.queue_ids
            for channel_id in agent.open_channel_ids
        }
    )
    if not servable:
        return WaitingWork([], {}, cut_short=False)
    heads: list[tuple[Any, ...]] = []
    cut_short = False
    for start in range(0, len(servable), LINE_HEADS_PER_STATEMENT):
        pairs = servable[start : start + LINE_HEADS_PER_STATEMENT]
        rows, full = _line_heads(pairs, limit)
        heads += rows
        cut_short = cut_short or full
    # The round's serving order, as the removed single ORDER BY had it.
    heads.sort(key=lambda head: (head[1], -head[2], _aware(head[3]), head[0]))
    cut_short = cut_short or len(heads) > limit
    first = [head[0] for head in heads[:limit]]
    in_ids, params = sql_any_of("item.id", first, connection)
    position = {item_id: index for index, item_id in enumerate(first)}
    rows = sorted(_item_rows(in_ids, params), key=lambda row: position[row["id"]])
    # An item claimed between the two reads is simply not offered this round.
    rows = [row for row in rows if row["status"] == WorkItem.Status.QUEUED]
    items = _waiting_items_from_rows(rows)
    timeouts = {row["id"]: row["push_timeout_seconds"] for row in rows}
    return WaitingWork(items, timeouts, cut_short=cut_short)


# Lines read per statement: one sub-select each, under SQLite's limit on compound selects.
LINE_HEADS_PER_STATEMENT = 100


def _line_heads(pairs: list[tuple[int, int]], limit: int) -> tuple[list[tuple[Any, ...]], bool]:
    """(id, routing priority, priority, enqueued_at, queue, channel) of the first ``limit``
    queued items of each (queue, channel) line, and whether some line may hold more."""
    head = f"""
        SELECT * FROM (
            SELECT item.id, config.routing_priority, item.priority, item.enqueued_at,
                   item.queue_id, item.channel_id
            FROM {WorkItem._meta.db_table} item
            JOIN {Queue._meta.db_table} queue ON queue.id = item.queue_id
            JOIN {RoutingConfig._meta.db_table} config ON config.id = queue.routing_config_id
            WHERE item.queue_id = %s AND item.channel_id = %s AND item.status = %s
            ORDER BY item.priority DESC, item.enqueued_at, item.id
            LIMIT %s
        ) AS line_head
    """
    params: list[Any] = []
    for queue_id, channel_id in pairs:
        params += [queue_id, channel_id, WorkItem.Status.QUEUED, limit]
    with connection.cursor() as cursor:
        cursor.execute(" UNION ALL ".join([head] * len(pairs)), params)
        rows = cursor.fetchall()
    per_line = Counter((row[4], row[5]) for row in rows)
    return rows, any(count >= limit for count in per_line.values())


_ITEM_COLUMNS = {
    "id": "item.id",
    "status": "item.status",
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


def _agent_configuration(
    include_offline: bool, agent_ids: list[int] | None = None
) -> _AgentConfiguration:
    """Presence channels, memberships, skills and channel limits in one statement: of the
    given agents, else of every agent open for some channel (or of all of them).

    One hand-written UNION of plain integers costs a fraction of the five ORM queries it
    replaces (their compilation dominated a round).
    """
    tables = {
        "status_channels": PresenceStatus.channels.through._meta.db_table,
        "members": Queue.members.through._meta.db_table,
        "skills": AgentSkill._meta.db_table,
        "limits": AgentChannelLimit._meta.db_table,
        "channels": ServiceChannel._meta.db_table,
        "agents": Agent._meta.db_table,
    }
    params: list[Any] = []
    if agent_ids is not None:
        in_agents, agent_params = sql_any_of("agent_id", agent_ids, connection)
        of_agents = f"WHERE {in_agents}"
        params = [*agent_params, *agent_params, *agent_params]
    elif include_offline:
        of_agents = ""
    else:
        of_agents = f"""WHERE agent_id IN (
            SELECT agent.id FROM {tables["agents"]} agent
            JOIN {tables["status_channels"]} open_for
              ON open_for.presencestatus_id = agent.status_id)"""
    sql = f"""
        SELECT 'c', presencestatus_id, servicechannel_id, 0 FROM {tables["status_channels"]}
        UNION ALL SELECT 'q', agent_id, queue_id, 0 FROM {tables["members"]} {of_agents}
        UNION ALL SELECT 's', agent_id, skill_id, level FROM {tables["skills"]} {of_agents}
        UNION ALL SELECT 'l', agent_id, channel_id, max_items FROM {tables["limits"]} {of_agents}
        UNION ALL SELECT 'd', id, id, max_items_per_agent FROM {tables["channels"]}
            WHERE max_items_per_agent IS NOT NULL
    """
    config = _AgentConfiguration()
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
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


class _AgentRow(NamedTuple):
    id: int
    capacity: int
    status_id: int | None
    last_work_ended_at: datetime | None
    last_offered_at: datetime | None


def agent_states(
    now: datetime | None = None,
    *,
    include_offline: bool = False,
    agent_ids: Iterable[int] | None = None,
) -> list[engine.AgentState]:
    """Agents whose presence accepts at least one channel (or all of them), with their load;
    only the given ones if ``agent_ids`` is set.

    Plain values, a fixed handful of queries whatever the number of agents.
    """
    agents = Agent.objects.all()
    chosen = None if agent_ids is None else sorted(set(agent_ids))
    if chosen is not None:
        agents = agents.filter(pk__any=chosen)
    if not include_offline:
        agents = agents.filter(status__channels__isnull=False).distinct()
    rows = [
        _AgentRow(*row)
        for row in agents.order_by("pk").values_list(
            "pk", "capacity", "status_id", "last_work_ended_at", "last_offered_at"
        )
    ]
    return _states(rows, now, _agent_configuration(include_offline, chosen))


def free_agent_states(now: datetime | None = None) -> list[engine.AgentState]:
    """The agents a round can give work to: open for some channel, with capacity free.

    Full agents are left out in SQL, before any of their configuration or load is read: on
    a busy floor most agents are full, and rounds are small and frequent. One statement when
    nobody has room.
    """
    now = now or timezone.now()
    rows = _free_agent_rows(now)
    if not rows:
        return []
    return _states(rows, now, _agent_configuration(False, [row.id for row in rows]))


def _free_agent_rows(now: datetime) -> list[_AgentRow]:
    """Hand-written: the held units are summed from the two small partial indexes of held
    work (``workitem_agent_load``, ``workitem_wrap_up_end``), never the history."""
    active = ", ".join(["%s"] * len(ACTIVE_STATUSES))
    sql = f"""
        SELECT agent.id, agent.capacity, agent.status_id, agent.last_work_ended_at,
               agent.last_offered_at
        FROM {Agent._meta.db_table} agent
        LEFT JOIN (
            SELECT agent_id, SUM(units) AS used FROM {WorkItem._meta.db_table}
            WHERE agent_id IS NOT NULL
              AND (status IN ({active}) OR (status = %s AND wrap_up_until > %s))
            GROUP BY agent_id
        ) held ON held.agent_id = agent.id
        WHERE agent.status_id IN (
            SELECT presencestatus_id FROM {PresenceStatus.channels.through._meta.db_table})
          AND agent.capacity > COALESCE(held.used, 0)
        ORDER BY agent.id
    """
    wrap_up_end = connection.ops.adapt_datetimefield_value(now)
    params = [*ACTIVE_STATUSES, WorkItem.Status.CLOSED, wrap_up_end]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return [
            _AgentRow(agent_id, capacity, status_id, _aware(ended), _aware(offered))
            for agent_id, capacity, status_id, ended, offered in cursor.fetchall()
        ]


def _states(
    rows: list[_AgentRow], now: datetime | None, config: _AgentConfiguration
) -> list[engine.AgentState]:
    open_by_status = {status: frozenset(ids) for status, ids in config.status_channels.items()}
    queues, skills = config.queues, config.skills
    held = loads([row.id for row in rows], now)
    no_load = Load()
    return [
        engine.AgentState(
            id=row.id,
            capacity=row.capacity,
            used_units=(load := held.get(row.id, no_load)).units,
            open_channel_ids=open_by_status.get(row.status_id, frozenset()),
            queue_ids=frozenset(queues[row.id]),
            idle_since=row.last_work_ended_at,
            skills=skills[row.id],
            active_items=load.items,
            channel_items=load.per_channel,
            channel_limits={**config.default_limits, **config.own_limits[row.id]},
            last_offered_at=row.last_offered_at,
        )
        for row in rows
    ]


def anything_waiting() -> bool:
    """Whether any item waits in a queue: one probe of the waiting line's partial index."""
    return WorkItem.objects.filter(status=WorkItem.Status.QUEUED).exists()


def preferred_agents_missing(
    items: Iterable[engine.WaitingItem], agents: Iterable[engine.AgentState], now: datetime
) -> set[int]:
    """Agents these items still wait for who are not among ``agents``: a full agent is no
    use to a round, except that the item their customer prefers them for is held for them."""
    known = {agent.id for agent in agents}
    wanted = {item.prefers(now) for item in items if item.preferred_agent_id is not None}
    return {agent_id for agent_id in wanted if agent_id is not None} - known


def open_channels(agent_ids: Iterable[int]) -> dict[int, set[int]]:
    """Agent -> the channels their presence accepts right now."""
    open_by_agent: dict[int, set[int]] = defaultdict(set)
    rows = Agent.objects.filter(
        pk__any=list(agent_ids), status__channels__isnull=False
    ).values_list("pk", "status__channels")
    for agent_id, channel_id in rows:
        open_by_agent[agent_id].add(channel_id)
    return open_by_agent
