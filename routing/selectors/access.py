"""Access to what a user's input names: every offer or work item id that comes from a request
or a frame is looked up here, for the agent acting, or NotFound."""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser

from contactcenter.kernel.errors import Forbidden, NotFound
from routing.models import Agent, Offer, WorkItem


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


def acting_agent(user: AbstractBaseUser | AnonymousUser) -> Agent:
    """The agent a signed-in user acts as, or Forbidden: every agent-only request and socket
    resolves its agent here."""
    agent = (
        Agent.objects.select_related("user").filter(user=user).first()
        if user.is_authenticated
        else None
    )
    if agent is None:
        raise Forbidden("Only agents can do this.")
    return agent
