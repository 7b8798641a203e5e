"""Who may call the REST edge: the roles, and the agent a request acts as."""

from __future__ import annotations

from rest_framework.permissions import BasePermission
from rest_framework.request import Request
from rest_framework.views import APIView

from contactcenter.kernel.errors import Forbidden
from contactcenter.kernel.roles import is_supervisor
from routing.models import Agent
from routing.selectors import access

# Where the request keeps the agent it acts as once ``acting_agent`` has read it.
_AGENT_ATTRIBUTE = "acting_agent"


def acting_agent(request: Request) -> Agent:
    """The agent the signed-in user acts as, or Forbidden (routing's one rule for it,
    ``access.acting_agent``); read once per request, however many checks ask."""
    agent = getattr(request, _AGENT_ATTRIBUTE, None)
    if agent is None:
        agent = access.acting_agent(request.user)
        setattr(request, _AGENT_ATTRIBUTE, agent)
    return agent


class IsAgent(BasePermission):
    """Agents only; the view then reads its agent with ``acting_agent(request)``."""

    message = "Only agents can do this."

    def has_permission(self, request: Request, view: APIView) -> bool:
        try:
            acting_agent(request)
        except Forbidden:
            return False
        return True


class IsSupervisor(BasePermission):
    message = "Only supervisors can do this."

    def has_permission(self, request: Request, view: APIView) -> bool:
        return is_supervisor(request.user)
