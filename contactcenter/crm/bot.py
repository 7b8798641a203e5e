"""The self-service bot: answers simple requests before a contact is routed to an agent.

Admins configure intents (``BotIntent``) with example phrases and what to do: answer, look an
order up, end the conversation, or hand off. A customer's message is matched to the intent
whose examples share the most words with it. The bot hands off to an agent when the customer
asks for one (a hand-off intent), when it has not understood twice, or when a lookup needs a
person; the hand-off enqueues the contact with the detected intent, which intake rules turn
into queue, skills and priority, and the agent sees the whole bot transcript.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from dataclasses import dataclass

from django.conf import settings

from contactcenter.crm.messages import append_message
from contactcenter.crm.models import BotIntent, ChannelKind, Interaction, Message, Order

BOT_CHANNELS = frozenset(
    {ChannelKind.CHAT, ChannelKind.SMS, ChannelKind.MESSAGING, ChannelKind.SOCIAL}
)
MISSES_BEFORE_HANDOFF = 2
BOT_FIELDS = ["bot_status", "bot_intent", "bot_answers", "bot_misses", "bot_awaiting"]
# Words that say nothing about what the customer wants.
_STOP_WORDS_TEXT = (
    "a an the i im i'm me my we our you your is are was be to of in on for at it this "
    "that and or do does can could would please hi hello hey there with about"
)
STOP_WORDS = frozenset(_STOP_WORDS_TEXT.split(" "))
_WORD = re.compile(r"[a-z0-9']+")
# Order numbers as the shop writes them: digits, optionally after a letter prefix ("A-10023").
ORDER_NUMBER = re.compile(r"\b(?:[A-Za-z]{1,3}-)?\d{4,12}\b")

NOT_UNDERSTOOD = "Sorry, I did not understand that. Could you say it another way?"
HANDING_OFF = "Let me get you to one of our agents; they will see this conversation."
ASK_ORDER_NUMBER = "What is your order number?"
ORDER_NOT_FOUND = "I could not find order {number} on your account. Let me get you to an agent."


@dataclass(frozen=True)
class Match:
    intent: str
    score: float


def words(text: str) -> frozenset[str]:
    return frozenset(
        word
        for word in _WORD.findall(ORDER_NUMBER.sub(" ", text.lower()))
        if word not in STOP_WORDS
    )


def match_intent(
    text: str, intents: Iterable[tuple[str, list[str]]], *, threshold: float
) -> Match | None:
    """The intent with the example closest to the text (cosine of their word sets), if any
    reaches the threshold; ties go to the intent listed first."""
    said = words(text)
    if not said:
        return None
    best: Match | None = None
    for name, examples in intents:
        for example in examples:
            known = words(example)
            if not known:
                continue
            score = len(said & known) / math.sqrt(len(said) * len(known))
            if score >= threshold and (best is None or score > best.score):
                best = Match(name, score)
    return best


@dataclass(frozen=True)
class Outcome:
    """What the bot did with one message: its replies, and whether to route to an agent."""

    replies: tuple[str, ...]
    handoff: bool = False
    resolved: bool = False


def takes(interaction: Interaction) -> bool:
    """Whether the bot may answer this contact's next message: a channel it talks on, and no
    hand-off yet. The channel's "self service" setting, which routing keeps, decides too."""
    if interaction.channel not in BOT_CHANNELS:
        return False
    return interaction.bot_status in (Interaction.BotStatus.NONE, Interaction.BotStatus.ACTIVE)


def respond(interaction: Interaction, text: str) -> Outcome:
    """Decide the bot's answer to a customer message and record it on the interaction (the
    caller saves it and stores the replies)."""
    interaction.bot_status = Interaction.BotStatus.ACTIVE
    intents = {intent.name: intent for intent in BotIntent.objects.filter(active=True)}
    if interaction.bot_awaiting in intents:
        awaited = intents[interaction.bot_awaiting]
        interaction.bot_awaiting = ""
        if ORDER_NUMBER.search(text):
            return _order_status(interaction, awaited, text)
    found = match_intent(
        text,
        ((intent.name, intent.example_phrases()) for intent in intents.values()),
        threshold=settings.BOT_MATCH_THRESHOLD,
    )
    if found is None:
        interaction.bot_misses += 1
        if interaction.bot_misses >= MISSES_BEFORE_HANDOFF:
            return _handoff(interaction, HANDING_OFF)
        return Outcome(replies=(NOT_UNDERSTOOD,))
    intent = intents[found.intent]
    interaction.bot_intent = intent.name
    if intent.action == BotIntent.Action.HANDOFF:
        return _handoff(interaction, intent.answer or HANDING_OFF)
    if intent.action == BotIntent.Action.ORDER_STATUS:
        if not ORDER_NUMBER.search(text):
            interaction.bot_awaiting = intent.name
            return Outcome(replies=(ASK_ORDER_NUMBER,))
        return _order_status(interaction, intent, text)
    interaction.bot_answers += 1
    if intent.action == BotIntent.Action.END:
        interaction.bot_status = Interaction.BotStatus.RESOLVED
        return Outcome(replies=(intent.answer,) if intent.answer else (), resolved=True)
    return Outcome(replies=(intent.answer,))


def _handoff(interaction: Interaction, reply: str) -> Outcome:
    interaction.bot_status = Interaction.BotStatus.HANDED_OFF
    return Outcome(replies=(reply,), handoff=True)


def _order_status(interaction: Interaction, intent: BotIntent, text: str) -> Outcome:
    number = ORDER_NUMBER.search(text).group(0).upper()
    # Only the customer's own orders: a web chat visitor is known by the email they typed.
    order = Order.objects.filter(number=number, customer_id=interaction.case.customer_id).first()
    if order is None:
        interaction.bot_intent = intent.name
        return _handoff(interaction, ORDER_NOT_FOUND.format(number=number))
    interaction.bot_answers += 1
    answer = intent.answer or "Order {number} is {status}."
    details = {
        "{number}": order.number,
        "{status}": order.get_status_display().lower(),
        "{carrier}": order.carrier or "the carrier",
        "{tracking_number}": order.tracking_number or "not yet available",
    }
    for placeholder, value in details.items():
        answer = answer.replace(placeholder, value)
    return Outcome(replies=(answer,))


def customer_message(interaction: Interaction, message: Message) -> Outcome:
    """Answer one customer message, storing the bot's replies; the caller enqueues on hand-off."""
    outcome = respond(interaction, message.body)
    interaction.save(update_fields=BOT_FIELDS)
    for reply in outcome.replies:
        append_message(interaction, sender=Message.Sender.BOT, body=reply, agent_id=None)
    return outcome


def customer_left(interaction: Interaction) -> bool:
    """Settle a bot conversation the customer walked away from; True if there was one."""
    if interaction.bot_status != Interaction.BotStatus.ACTIVE:
        return False
    interaction.bot_status = (
        Interaction.BotStatus.RESOLVED
        if interaction.bot_answers
        else Interaction.BotStatus.ABANDONED
    )
    interaction.save(update_fields=BOT_FIELDS)
    return True
