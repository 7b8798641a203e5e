"""Demo data: queues, skills, a dozen agents, a supervisor, an admin, customers with history."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.db import transaction
from django.utils import timezone

from contactcenter.crm.models import (
    BotIntent,
    CannedResponse,
    Case,
    ChannelKind,
    ContactPoint,
    Customer,
    Interaction,
    Message,
    Order,
)
from routing.models import (
    Agent,
    AgentSkill,
    IntakeRule,
    IntakeRuleSkill,
    PresenceStatus,
    Queue,
    RoutingConfig,
    ServiceChannel,
    Skill,
    Team,
)

AGENT_PASSWORD = "agent-demo"
SUPERVISOR_PASSWORD = "supervisor-demo"
ADMIN_PASSWORD = "admin-demo"
SUPERVISORS_GROUP = "Supervisors"
# agent01–agent03 are left for people trying the console; the traffic generator works as the rest.
HUMAN_AGENTS = ("agent01", "agent02", "agent03")

AGENT_NAMES = [
    ("Ada", "Lovelace"),
    ("Grace", "Hopper"),
    ("Alan", "Turing"),
    ("Katherine", "Johnson"),
    ("Edsger", "Dijkstra"),
    ("Barbara", "Liskov"),
    ("Donald", "Knuth"),
    ("Margaret", "Hamilton"),
    ("Ken", "Thompson"),
    ("Frances", "Allen"),
    ("John", "McCarthy"),
    ("Radia", "Perlman"),
]
CUSTOMER_NAMES = [
    "Maria Garcia",
    "Liam Smith",
    "Noah Johnson",
    "Emma Brown",
    "Olivia Jones",
    "Ava Miller",
    "Lucas Davis",
    "Mia Wilson",
    "Ethan Moore",
    "Sofia Taylor",
    "Mateo Anderson",
    "Chloe Thomas",
    "Yuki Tanaka",
    "Arjun Patel",
    "Fatima Khan",
    "Jonas Weber",
    "Elena Rossi",
    "Kwame Mensah",
    "Ingrid Larsen",
    "Pedro Alves",
]
SKILLS = ["Billing", "English", "Refunds", "Spanish", "Technical support"]
HISTORY_LINES = [
    ("Hi, I was charged twice for my order.", "Sorry about that! I have refunded the duplicate."),
    ("My parcel has not arrived yet.", "It is with the courier and arrives tomorrow."),
    ("How do I reset my password?", "Use 'Forgot password' on the login page; I sent the link."),
    ("Can I change my delivery address?", "Done: the new address is on the order."),
]


@dataclass(frozen=True)
class Login:
    role: str
    username: str
    password: str


def demo_logins() -> list[Login]:
    return [
        Login("admin", "admin", ADMIN_PASSWORD),
        Login("supervisor", "supervisor", SUPERVISOR_PASSWORD),
        *(Login("agent", username, AGENT_PASSWORD) for username in HUMAN_AGENTS),
    ]


def demo_customer_addresses() -> list[tuple[str, str]]:
    return [(name, _email_for(name)) for name in CUSTOMER_NAMES]


def _email_for(name: str) -> str:
    return name.lower().replace(" ", ".") + "@example.com"


def supervisors_group() -> Group:
    group, _ = Group.objects.get_or_create(name=SUPERVISORS_GROUP)
    group.permissions.add(
        Permission.objects.get(codename="supervise", content_type__app_label="routing")
    )
    return group


@transaction.atomic
def seed_demo(*, seed: int = 7, history: bool = True) -> bool:
    """Create the demo data once; False when it is already there."""
    User = get_user_model()
    if User.objects.filter(username="admin").exists():
        return False
    rng = random.Random(seed)
    User.objects.create_superuser("admin", "admin@example.com", ADMIN_PASSWORD)
    supervisor = User.objects.create_user(
        "supervisor",
        "supervisor@example.com",
        SUPERVISOR_PASSWORD,
        first_name="Sam",
        last_name="Supervisor",
    )
    supervisor.groups.add(supervisors_group())

    chat_config = RoutingConfig.objects.get(name="Web chat")
    # A customer who wrote an email, or chatted before, reaches the same agent for a minute.
    chat_config.preferred_agent_seconds = 60
    chat_config.save(update_fields=["preferred_agent_seconds"])
    priority_config, _ = RoutingConfig.objects.get_or_create(
        name="Priority support",
        defaults={"routing_priority": 1, "units_per_item": 3, "push_timeout_seconds": 20},
    )
    chat_queue = Queue.objects.get(name="Web chat")
    billing_queue, _ = Queue.objects.get_or_create(
        name="Billing", defaults={"routing_config": chat_config}
    )
    vip_queue, _ = Queue.objects.get_or_create(
        name="VIP", defaults={"routing_config": priority_config}
    )
    # Saved, not updated in place: a save tells every process to reread its intake rules.
    chat = ServiceChannel.objects.get(kind=ChannelKind.CHAT)
    chat.default_queue = chat_queue
    chat.save(update_fields=["default_queue"])

    agents = _seed_agents(rng)
    # Two teams under their leads, for the dashboard's and the reports' filters.
    for name, members in (("Team North", agents[:6]), ("Team South", agents[6:])):
        team = Team.objects.create(name=name)
        Agent.objects.filter(pk__in=[agent.pk for agent in members]).update(team=team)
    # A break longer than a quarter of an hour shows on the supervisor's dashboard.
    PresenceStatus.objects.filter(name="Break").update(alert_after_seconds=15 * 60)
    chat_queue.members.set(agents)
    billing_queue.members.set(agents[::2])
    vip_queue.members.set(agents[:4])
    # Every agent also answers email and text messages; half of them take calls.
    for name, members in (("Email", agents), ("Messaging", agents), ("Voice", agents[::2])):
        Queue.objects.get(name=name).members.set(members)

    _seed_self_service(billing_queue)
    for position, (title, body) in enumerate(CANNED_RESPONSES, start=1):
        CannedResponse.objects.create(title=title, body=body, position=position)
    if history:
        _seed_history(rng, agents)
    return True


def _seed_agents(rng: random.Random) -> list[Agent]:
    """agent01..agentNN with a few skills each at random levels."""
    User = get_user_model()
    skills = [Skill.objects.get_or_create(name=name)[0] for name in SKILLS]
    agents = []
    for number, (first, last) in enumerate(AGENT_NAMES, start=1):
        username = f"agent{number:02d}"
        user = User.objects.create_user(
            username, f"{username}@example.com", AGENT_PASSWORD, first_name=first, last_name=last
        )
        agent = Agent.objects.create(user=user, capacity=6)
        for skill in rng.sample(skills, k=rng.randint(1, 3)):
            AgentSkill.objects.create(agent=agent, skill=skill, level=rng.randint(3, 10))
        agents.append(agent)
    return agents


CANNED_RESPONSES = [
    ("Greeting", "Hello {first_name}, thanks for reaching out. I am {agent_name}; let me help."),
    ("Case number", "For your records, this is case {case_number}."),
    ("Goodbye", "Thank you {first_name}, have a great day!"),
]

BOT_INTENTS = [
    # (name, action, examples, answer)
    (
        "Opening hours",
        BotIntent.Action.ANSWER,
        "When are you open?\nWhat are your opening hours?\nAre you open on Sunday?",
        "We are open Monday to Saturday, 8:00 to 20:00 (CET).",
    ),
    (
        "Shipping countries",
        BotIntent.Action.ANSWER,
        "Do you ship to Norway?\nWhich countries do you ship to?\nDo you deliver abroad?",
        "We ship to every EU country, Norway, Switzerland and the UK.",
    ),
    (
        "Order status",
        BotIntent.Action.ORDER_STATUS,
        "Where is my order?\nWhat is the status of my order?\nTrack my order",
        "Order {number} is {status}. Carrier: {carrier}, tracking number {tracking_number}.",
    ),
    (
        "Refund",
        BotIntent.Action.HANDOFF,
        "I want a refund\nI'd like a refund\nCan I get my money back?",
        "Refunds are handled by our billing team; I am passing you on to them.",
    ),
    (
        "Talk to a person",
        BotIntent.Action.HANDOFF,
        "Can I talk to a person?\nI want an agent\nSpeak to a human",
        "Of course, let me get you to one of our agents.",
    ),
    (
        "Thanks",
        BotIntent.Action.END,
        "Thanks!\nThank you, that's all\nGreat, that helps",
        "Glad I could help. Goodbye!",
    ),
]


def _seed_self_service(billing_queue: Queue) -> None:
    """The bot answers first on every text channel; refunds go to billing with the skill."""
    for position, (name, action, examples, answer) in enumerate(BOT_INTENTS, start=1):
        BotIntent.objects.create(
            name=name, action=action, examples=examples, answer=answer, position=position
        )
    # Saved one by one: a save tells every process to reread the channel settings.
    for channel in ServiceChannel.objects.filter(
        kind__in=[ChannelKind.CHAT, ChannelKind.SMS, ChannelKind.MESSAGING, ChannelKind.SOCIAL]
    ):
        channel.self_service = True
        channel.save(update_fields=["self_service"])
    rule = IntakeRule.objects.create(
        name="Refunds to billing", position=10, intent="Refund", queue=billing_queue, priority=2
    )
    IntakeRuleSkill.objects.create(rule=rule, skill=Skill.objects.get(name="Refunds"), min_level=3)


def _seed_history(rng: random.Random, agents: list[Agent]) -> None:
    now = timezone.now()
    for name in CUSTOMER_NAMES:
        customer = Customer.objects.create(name=name)
        ContactPoint.objects.create(
            customer=customer, kind=ContactPoint.Kind.EMAIL, value=_email_for(name)
        )
        for _ in range(2):
            number = str(rng.randint(10000, 99999))
            while Order.objects.filter(number=number).exists():
                number = str(rng.randint(10000, 99999))
            status = rng.choice(list(Order.Status))
            shipped = status in (Order.Status.SHIPPED, Order.Status.DELIVERED)
            Order.objects.create(
                number=number,
                customer=customer,
                status=status,
                placed_at=now - timedelta(days=rng.randint(1, 30)),
                carrier="DHL" if shipped else "",
                tracking_number=f"JD{rng.randint(10**9, 10**10 - 1)}" if shipped else "",
                total=rng.randint(1000, 20000) / 100,
            )
        for _ in range(rng.randint(1, 3)):
            started = now - timedelta(days=rng.randint(2, 90), minutes=rng.randint(0, 600))
            question, answer = rng.choice(HISTORY_LINES)
            case = Case.objects.create(customer=customer, subject=question[:60])
            interaction = Interaction.objects.create(case=case, channel=ChannelKind.CHAT)
            agent = rng.choice(agents)
            Message.objects.create(
                interaction=interaction, sender=Message.Sender.CUSTOMER, body=question
            )
            Message.objects.create(
                interaction=interaction, sender=Message.Sender.AGENT, author=agent.user, body=answer
            )
            ended = started + timedelta(minutes=rng.randint(3, 25))
            Case.objects.filter(pk=case.pk).update(
                created_at=started, status=Case.Status.CLOSED, closed_at=ended
            )
            Interaction.objects.filter(pk=interaction.pk).update(
                started_at=started, ended_at=ended, status=Interaction.Status.CLOSED
            )
            Message.objects.filter(interaction=interaction).update(created_at=started)
