"""Intake: which queue, skills and priority a new contact gets, from the admin's ordered rules.

Rules are tried in order; the first active one whose conditions all hold wins. Empty
conditions match anything, and the default rule (no conditions, always last) catches every
contact the others leave.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.core.cache import cache
from django.db import transaction

from contactcenter.kernel.errors import Conflict
from routing.engine import SkillNeed
from routing.models import IntakeRule, IntakeRuleSkill, Queue, ServiceChannel


@dataclass(frozen=True)
class Contact:
    """What intake rules look at: the channel, who the customer is, and what they wrote."""

    channel_kind: str
    customer_tier: str = ""
    customer_language: str = ""
    first_message: str = ""
    intent: str = ""


@dataclass(frozen=True)
class IntakeDecision:
    rule: IntakeRule
    queue: Queue
    priority: int
    skills: tuple[SkillNeed, ...] = field(default=())


def keyword_list(keywords: str) -> list[str]:
    return [keyword.strip() for keyword in keywords.split(",") if keyword.strip()]


def rule_matches(rule: IntakeRule, contact: Contact) -> bool:
    if rule.channel_id is not None and rule.channel.kind != contact.channel_kind:
        return False
    if rule.customer_tier and rule.customer_tier.casefold() != contact.customer_tier.casefold():
        return False
    if (
        rule.customer_language
        and rule.customer_language.casefold() != contact.customer_language.casefold()
    ):
        return False
    if rule.intent and rule.intent.casefold() != contact.intent.casefold():
        return False
    keywords = keyword_list(rule.keywords)
    return not keywords or any(_contains_words(contact.first_message, k) for k in keywords)


def _contains_words(text: str, phrase: str) -> bool:
    # Whole words, so that "bill" does not route "billion" or "rebill" to billing.
    pattern = r"(?<!\w)" + r"\s+".join(map(re.escape, phrase.split())) + r"(?!\w)"
    return re.search(pattern, text, flags=re.IGNORECASE) is not None


# Every enqueue reads the rules, and they change only when an admin edits them: each process
# keeps them until the shared version (bumped on every save or delete of a rule, its skills,
# a queue, a routing configuration or a channel) moves on.
RULES_VERSION_KEY = "routing:intake-rules-version"


@dataclass(frozen=True)
class _Configuration:
    version: object
    rules: list[IntakeRule]
    channels: dict[str, ServiceChannel]


_cached: _Configuration | None = None


def _configuration() -> _Configuration:
    global _cached
    version = cache.get(RULES_VERSION_KEY)
    if version is None:
        version = new_version()
    if _cached is not None and _cached.version == version:
        return _cached
    rules = list(
        IntakeRule.objects.filter(is_active=True)
        .select_related("channel", "queue__routing_config")
        .prefetch_related("skills")
        .order_by("is_default", "position", "id")
    )
    channels = {
        channel.kind: channel
        for channel in ServiceChannel.objects.select_related("default_queue__routing_config")
    }
    _cached = _Configuration(version, rules, channels)
    return _cached


def active_rules() -> list[IntakeRule]:
    """Active rules in the order they are tried, the default last."""
    return _configuration().rules


def service_channel(kind: str) -> ServiceChannel:
    channel = _configuration().channels.get(kind)
    if channel is None:
        raise Conflict(f"No service channel for {kind} work is configured.")
    return channel


def channel_ids(kinds: Iterable[str]) -> set[int]:
    """Ids of the configured channels of these kinds."""
    channels = _configuration().channels
    return {channels[kind].pk for kind in kinds if kind in channels}


def reads_first_message() -> bool:
    """Whether any active rule looks at the first message (the enqueue can skip reading it)."""
    return any(rule.keywords.strip() for rule in active_rules())


def new_version() -> str:
    version = uuid.uuid4().hex
    cache.set(RULES_VERSION_KEY, version, timeout=None)
    return version


def rules_changed(**_: object) -> None:
    """Signal receiver: every process reads the rules afresh on its next enqueue.

    Bumped now, for this transaction's own reads, and again after the commit, since another
    process may have read and kept the uncommitted-over rules in between.
    """
    new_version()
    transaction.on_commit(new_version)


def matching_rule(contact: Contact, rules: list[IntakeRule] | None = None) -> IntakeRule:
    for rule in active_rules() if rules is None else rules:
        if rule.is_default or rule_matches(rule, contact):
            return rule
    raise Conflict("No intake rule takes this contact; the default rule is missing.")


def decide(contact: Contact) -> IntakeDecision:
    """The first matching rule's queue (or the channel's default queue), skills and priority."""
    rule = matching_rule(contact)
    queue = rule.queue
    if queue is None:
        channel = _configuration().channels.get(contact.channel_kind)
        queue = channel.default_queue if channel is not None else None
    if queue is None:
        raise Conflict(
            f"No queue takes {contact.channel_kind} work yet: intake rule “{rule}” names none "
            "and the channel has no default queue."
        )
    skills = tuple(
        SkillNeed(need.skill_id, need.min_level, need.drop_after_seconds)
        for need in rule.skills.all()
    )
    return IntakeDecision(rule=rule, queue=queue, priority=rule.priority, skills=skills)


@dataclass(frozen=True)
class RuleTrial:
    rule: IntakeRule
    matches: bool


@dataclass(frozen=True)
class Trial:
    """What intake would do with a sample contact, and how each rule judged it."""

    rules: list[RuleTrial]
    winner: IntakeRule | None
    decision: IntakeDecision | None
    skills: list[IntakeRuleSkill]
    error: str = ""


def trial(contact: Contact) -> Trial:
    """Try the active rules on a contact without routing anything (the admin's test page)."""
    rules = active_rules()
    winner = decision = None
    error = ""
    try:
        winner = matching_rule(contact, rules)
        decision = decide(contact)
    except Conflict as exc:
        error = str(exc)
    return Trial(
        rules=[RuleTrial(rule, rule.is_default or rule_matches(rule, contact)) for rule in rules],
        winner=winner,
        decision=decision,
        skills=list(winner.skills.select_related("skill")) if winner else [],
        error=error,
    )
