"""The floor of bench/floor.py, created in bulk in one ``manage.py shell`` run.

2,000 agents through the services would take minutes (each user, agent, membership, skill and
session its own statements); bulk inserts take seconds. What is inserted is what the services
would have made: users with unusable passwords, offline agents (their consoles set them
Available), queue memberships, skills, and database sessions as the login view writes them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from tests.stack import shell_script

# Run by tests/stack.shell_script; `{...}` are filled by `seed_floor`, `{{...}}` are literal.
SEED_SCRIPT = """
import json
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Permission
from django.contrib.sessions.backends.db import SessionStore
from django.contrib.sessions.models import Session
from django.utils import timezone
from django.utils.crypto import get_random_string
from rest_framework.authtoken.models import Token

from routing.models import Agent, AgentSkill, PresenceStatus, Queue, RoutingConfig, ServiceChannel
from routing.models import Skill

User = get_user_model()
# Every queue takes one unit per item, so an agent of capacity {capacity} holds {capacity} chats;
# offers wait long enough that none times out while a busy client is slow to answer.
RoutingConfig.objects.update(units_per_item=1, push_timeout_seconds={push_timeout})
# The intake API's channel goes straight to the queue (the demo puts a bot in front of it).
channel = ServiceChannel.objects.get(kind="{channel}")
channel.self_service = False
channel.save(update_fields=["self_service"])

users = User.objects.bulk_create(
    [
        User(
            username=f"floor{{number:05d}}",
            first_name="Floor",
            last_name=f"Agent {{number:05d}}",
            password=make_password(None),
        )
        for number in range(1, {agents} + 1)
    ],
    batch_size=1000,
)
agents = Agent.objects.bulk_create(
    [Agent(user=user, capacity={capacity}) for user in users], batch_size=1000
)
for queue in Queue.objects.all():
    queue.members.add(*agents)
skills = list(Skill.objects.all())
AgentSkill.objects.bulk_create(
    [AgentSkill(agent=agent, skill=skill, level=10) for agent in agents for skill in skills],
    batch_size=2000,
)


def session_rows(user, count):
    expire = timezone.now() + timedelta(days=1)
    data = SessionStore().encode(
        {{
            "_auth_user_id": str(user.pk),
            "_auth_user_backend": "django.contrib.auth.backends.ModelBackend",
            "_auth_user_hash": user.get_session_auth_hash(),
        }}
    )
    return [
        Session(session_key=get_random_string(32), session_data=data, expire_date=expire)
        for _ in range(count)
    ]


agent_sessions = [session_rows(user, 1)[0] for user in users]
supervisor = User.objects.get(username="supervisor")
supervisor_sessions = session_rows(supervisor, {dashboards})
Session.objects.bulk_create(agent_sessions + supervisor_sessions, batch_size=2000)

intake_user = User.objects.create_user("floor-intake", password=None)
intake_user.user_permissions.add(
    Permission.objects.get(content_type__app_label="contactcenter", codename="add_interaction")
)
print("FLOOR_AGENTS=" + json.dumps(
    [[agent.pk, session.session_key] for agent, session in zip(agents, agent_sessions)]
))
print("FLOOR_SUPERVISORS=" + json.dumps([session.session_key for session in supervisor_sessions]))
print("FLOOR_TOKEN=" + Token.objects.create(user=intake_user).key)
print("FLOOR_AVAILABLE=" + str(PresenceStatus.objects.get(name="Available").pk))
"""


@dataclass
class Floor:
    agents: list[tuple[int, str]]  # (agent id, session key), in username order
    supervisor_sessions: list[str]
    intake_token: str
    available_status_id: int


def seed_floor(
    env: dict[str, str],
    *,
    agents: int,
    dashboards: int,
    capacity: int,
    push_timeout: int,
    channel: str,
) -> Floor:
    """Create the floor in the stack's (migrated, demo-seeded) database."""
    script = SEED_SCRIPT.format(
        agents=agents,
        dashboards=dashboards,
        capacity=capacity,
        push_timeout=push_timeout,
        channel=channel,
    )
    printed = shell_script(env, script)
    return Floor(
        agents=[(int(agent_id), key) for agent_id, key in json.loads(printed["FLOOR_AGENTS"])],
        supervisor_sessions=json.loads(printed["FLOOR_SUPERVISORS"]),
        intake_token=printed["FLOOR_TOKEN"],
        available_status_id=int(printed["FLOOR_AVAILABLE"]),
    )
