"""A round's claims: lock what the plan touches, re-read it, and write the offers.

``rounds.make_offers`` decides which planned offers still hold; this module does its
database work. On PostgreSQL each step is one hand-written statement over arrays (lock the
agents, lock the items, re-read presence, load and refusals, then mark the items, stamp the
agents, insert the offers and read what the console shows of them): with thousands of offers a
round, building ORM queries, bulk operations and model instances cost several times what the
database spends (see ``bench/persisted_round.py --profile``). Other databases (SQLite in the
embedded mode) take the ORM path, which does the same work in more statements.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.contrib.auth import get_user_model
from django.db import connection

from contactcenter.crm.models import Case, Customer, Interaction, Message
from contactcenter.kernel.lookups import pg_int_array
from routing import engine
from routing.models import Agent, Offer, PresenceStatus, Queue, ServiceChannel, WorkItem
from routing.selectors import payloads, snapshot


@dataclass
class ClaimState:
    """What a claim re-checks, read while the agents' and items' rows are locked."""

    # Agent -> capacity, and what the console shows of the agent apart from its load.
    capacities: dict[int, int]
    agent_payloads: dict[int, dict[str, Any]]
    # Items still queued in the queue they were planned in, and not locked by anyone else.
    claimable: set[int]
    open_channels: dict[int, set[int]]
    loads: dict[int, snapshot.Load]
    # (item, agent) pairs where the agent declined or missed the item before.
    refused: set[tuple[int, int]]


@dataclass(frozen=True, slots=True)
class MadeOffer:
    """An offer a round stored (the row is ``routing.models.Offer``)."""

    id: int
    work_item_id: int
    agent_id: int
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class Claim:
    item: engine.WaitingItem
    assignment: engine.Assignment
    units: int
    timeout_seconds: int


def lock_and_read(agent_ids: list[int], planned_queue: dict[int, int], now: datetime) -> ClaimState:
    """Lock the agents (in id order, as every round does, so rounds cannot deadlock) and the
    still-queued planned items (skipping those another transaction holds), then read the rest.

    Runs inside the caller's transaction; the locks last until it ends.
    """
    agent_ids = sorted(set(agent_ids))
    if connection.vendor == "postgresql":
        return _lock_and_read_sql(agent_ids, planned_queue, now)
    return _lock_and_read_orm(agent_ids, planned_queue, now)


def write_offers(claims: list[Claim], now: datetime) -> list[tuple[MadeOffer, dict[str, Any]]]:
    """Mark the items offered, stamp the agents' last offer and store the offers; returns
    each offer with what the agent's console shows of it."""
    if connection.vendor == "postgresql":
        return _write_offers_sql(claims, now)
    return _write_offers_orm(claims, now)


# --- PostgreSQL -------------------------------------------------------------------------------


def _tables() -> dict[str, str]:
    return {
        "agent": Agent._meta.db_table,
        "user": get_user_model()._meta.db_table,
        "status": PresenceStatus._meta.db_table,
        "status_channels": PresenceStatus.channels.through._meta.db_table,
        "item": WorkItem._meta.db_table,
        "offer": Offer._meta.db_table,
        "message": Message._meta.db_table,
        "interaction": Interaction._meta.db_table,
        "case": Case._meta.db_table,
        "customer": Customer._meta.db_table,
        "channel": ServiceChannel._meta.db_table,
        "queue": Queue._meta.db_table,
    }


def _lock_and_read_sql(
    agent_ids: list[int], planned_queue: dict[int, int], now: datetime
) -> ClaimState:
    t = _tables()
    agents = pg_int_array(agent_ids)
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            SELECT agent.id, agent.capacity, agent.status_id, status.name, agent.status_since,
                   account.username, account.first_name, account.last_name
            FROM {t["agent"]} agent
            JOIN {t["user"]} account ON account.id = agent.user_id
            LEFT JOIN {t["status"]} status ON status.id = agent.status_id
            WHERE agent.id = ANY(%s::bigint[])
            ORDER BY agent.id
            FOR UPDATE OF agent
            """,
            [agents],
        )
        fields = payloads.AGENT_PAYLOAD_FIELDS
        locked = [dict(zip(fields, row, strict=True)) for row in cursor.fetchall()]
        cursor.execute(
            f"""
            SELECT id, queue_id FROM {t["item"]}
            WHERE id = ANY(%s::bigint[]) AND status = %s
            ORDER BY id
            FOR UPDATE SKIP LOCKED
            """,
            [pg_int_array(sorted(planned_queue)), WorkItem.Status.QUEUED],
        )
        claimable = {
            item_id for item_id, queue_id in cursor.fetchall() if queue_id == planned_queue[item_id]
        }
        # Presence and refusals in one trip: rows tagged by kind.
        cursor.execute(
            f"""
            SELECT 'o', agent.id, open_for.servicechannel_id
            FROM {t["agent"]} agent
            JOIN {t["status_channels"]} open_for ON open_for.presencestatus_id = agent.status_id
            WHERE agent.id = ANY(%s::bigint[])
            UNION ALL
            SELECT 'r', work_item_id, agent_id
            FROM {t["offer"]}
            WHERE work_item_id = ANY(%s::bigint[]) AND outcome = ANY(%s)
            """,
            [agents, pg_int_array(sorted(claimable)), list(Offer.REFUSALS)],
        )
        rows = cursor.fetchall()
    open_channels: dict[int, set[int]] = defaultdict(set)
    refused: set[tuple[int, int]] = set()
    for kind, first, second in rows:
        if kind == "o":
            open_channels[first].add(second)
        else:
            refused.add((first, second))
    return _claim_state(locked, claimable, open_channels, refused, agent_ids, now)


# Mark the claimed items offered, stamp their agents and insert the offers in one statement,
# then read what the console shows of each offer: the final SELECT sees the rows as they
# were before the statement, which is all it reads (names and first messages do not change).
_WRITE_OFFERS_SQL = """
        WITH claim AS (
            SELECT * FROM jsonb_to_recordset(%(claims)s::jsonb) AS claim(
                item bigint, agent bigint, units integer, timeout integer,
                model text, key jsonb)
        ), marked AS (
            UPDATE {t[item]} AS item
            SET status = %(offered)s, agent_id = claim.agent, units = claim.units
            FROM claim WHERE item.id = claim.item
        ), stamped AS (
            UPDATE {t[agent]} SET last_offered_at = %(now)s
            WHERE id IN (SELECT agent FROM claim)
        ), made AS (
            INSERT INTO {t[offer]} (work_item_id, agent_id, outcome, created_at,
                expires_at, decline_note, routing_model, routing_key)
            SELECT item, agent, %(pending)s, %(now)s,
                %(now)s + make_interval(secs => timeout), '', model, key
            FROM claim
            RETURNING id, work_item_id
        )
        SELECT made.id, made.work_item_id, channel.kind, queue.name, customer.name,
            (SELECT left(message.body, %(preview)s) FROM {t[message]} message
             WHERE message.interaction_id = item.interaction_id
               AND message.sender = %(customer)s
             ORDER BY message.created_at, message.id LIMIT 1)
        FROM made
        JOIN {t[item]} item ON item.id = made.work_item_id
        JOIN {t[channel]} channel ON channel.id = item.channel_id
        JOIN {t[queue]} queue ON queue.id = item.queue_id
        JOIN {t[interaction]} interaction ON interaction.id = item.interaction_id
        JOIN {t[case]} "case" ON "case".id = interaction.case_id
        JOIN {t[customer]} customer ON customer.id = "case".customer_id
"""


def _write_offers_sql(claims: list[Claim], now: datetime) -> list[tuple[MadeOffer, dict[str, Any]]]:
    rows = json.dumps(
        [
            {
                "item": claim.item.id,
                "agent": claim.assignment.agent_id,
                "units": claim.units,
                "timeout": claim.timeout_seconds,
                "model": claim.assignment.model,
                "key": routing_key_json(claim.assignment.key),
            }
            for claim in claims
        ]
    )
    with connection.cursor() as cursor:
        cursor.execute(
            _WRITE_OFFERS_SQL.format(t=_tables()),
            {
                "claims": rows,
                "offered": WorkItem.Status.OFFERED,
                "pending": Offer.Outcome.PENDING,
                "now": now,
                "preview": payloads.PREVIEW_CHARACTERS,
                "customer": Message.Sender.CUSTOMER,
            },
        )
        made = {row[1]: row for row in cursor.fetchall()}
    return [_with_payload(claim, made[claim.item.id], now) for claim in claims]


def _with_payload(claim: Claim, row: tuple, now: datetime) -> tuple[MadeOffer, dict[str, Any]]:
    """A stored offer and what the console shows of it, from the statement's row."""
    offer_id, item_id, channel, queue, customer_name, preview = row
    expires_at = now + timedelta(seconds=claim.timeout_seconds)
    offer = MadeOffer(offer_id, item_id, claim.assignment.agent_id, expires_at)
    payload = payloads.offer_payload(
        offer_id=offer_id,
        work_item_id=item_id,
        channel=channel,
        queue=queue,
        customer_name=customer_name,
        preview=preview or "",
        enqueued_at=claim.item.enqueued_at,
        created_at=now,
        expires_at=expires_at,
        now=now,
    )
    return offer, payload


# --- any database, through the ORM ------------------------------------------------------------


def _lock_and_read_orm(
    agent_ids: list[int], planned_queue: dict[int, int], now: datetime
) -> ClaimState:
    locked = list(
        Agent.objects.select_for_update(of=("self",))
        .filter(pk__any=agent_ids)
        .order_by("pk")
        .values(*payloads.AGENT_PAYLOAD_FIELDS)
    )
    claimable = {
        item_id
        for item_id, queue_id in WorkItem.objects.select_for_update(of=("self",), skip_locked=True)
        .filter(pk__any=list(planned_queue), status=WorkItem.Status.QUEUED)
        .order_by("pk")
        .values_list("pk", "queue_id")
        if queue_id == planned_queue[item_id]
    }
    refused = set(
        Offer.objects.filter(work_item_id__any=claimable, outcome__in=Offer.REFUSALS).values_list(
            "work_item_id", "agent_id"
        )
    )
    open_channels = snapshot.open_channels(agent_ids)
    return _claim_state(locked, claimable, open_channels, refused, agent_ids, now)


def _claim_state(
    locked: list[dict[str, Any]],
    claimable: set[int],
    open_channels: dict[int, set[int]],
    refused: set[tuple[int, int]],
    agent_ids: list[int],
    now: datetime,
) -> ClaimState:
    """The state both paths read; load comes from ``snapshot.loads``, the one definition of
    what holds an agent's capacity."""
    return ClaimState(
        capacities={row["pk"]: row["capacity"] for row in locked},
        agent_payloads={row["pk"]: payloads.agent_payload(row) for row in locked},
        claimable=claimable,
        open_channels=open_channels,
        loads=snapshot.loads(agent_ids, now),
        refused=refused,
    )


def _write_offers_orm(claims: list[Claim], now: datetime) -> list[tuple[MadeOffer, dict[str, Any]]]:
    WorkItem.objects.bulk_update(
        [
            WorkItem(
                pk=claim.item.id,
                status=WorkItem.Status.OFFERED,
                agent_id=claim.assignment.agent_id,
                units=claim.units,
            )
            for claim in claims
        ],
        ["status", "agent", "units"],
    )
    offers = Offer.objects.bulk_create(
        Offer(
            work_item_id=claim.item.id,
            agent_id=claim.assignment.agent_id,
            created_at=now,
            expires_at=now + timedelta(seconds=claim.timeout_seconds),
            routing_model=claim.assignment.model,
            routing_key=routing_key_json(claim.assignment.key),
        )
        for claim in claims
    )
    Agent.objects.filter(pk__any={claim.assignment.agent_id for claim in claims}).update(
        last_offered_at=now
    )
    made = [
        MadeOffer(offer.pk, offer.work_item_id, offer.agent_id, offer.expires_at)
        for offer in offers
    ]
    return list(zip(made, payloads.offer_payloads(offers, now), strict=True))


def routing_key_json(key: Iterable[Any]) -> list[Any]:
    """The engine's key as JSON: times become ISO strings, nested tuples lists."""
    out: list[Any] = []
    for part in key:
        if isinstance(part, tuple):
            out.append(routing_key_json(part))
        elif isinstance(part, datetime):
            out.append(part.isoformat())
        else:
            out.append(part)
    return out
