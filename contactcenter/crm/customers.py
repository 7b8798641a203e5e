"""Customers' profiles as agents and staff edit them."""

from __future__ import annotations

from django.db import transaction

from contactcenter.crm.models import Customer
from contactcenter.kernel.errors import InvalidInput, NotFound
from contactcenter.kernel.text import clean_text

CUSTOMER_FIELDS = {"name": 120, "tier": 40, "language": 16, "notes": 10_000}


def update_customer(customer_id: int, changes: dict[str, object]) -> Customer:
    """Edit a customer's profile (name, tier, language, notes) from the console or the API."""
    unknown = sorted(set(changes) - set(CUSTOMER_FIELDS))
    if unknown:
        raise InvalidInput(f"Unknown field {unknown[0]!r}.", field=unknown[0])
    cleaned = {}
    for field, value in changes.items():
        if not isinstance(value, str):
            raise InvalidInput(f"{field} must be text.", field=field)
        cleaned[field] = clean_text(
            value, field=field, max_length=CUSTOMER_FIELDS[field], label=field.capitalize()
        )
    if "name" in cleaned and not cleaned["name"]:
        raise InvalidInput("A customer needs a name.", field="name")
    with transaction.atomic():
        customer = Customer.objects.select_for_update().filter(pk=customer_id).first()
        if customer is None:
            raise NotFound(f"No customer {customer_id}.", field="customer_id")
        for field, value in cleaned.items():
            setattr(customer, field, value)
        if cleaned:
            customer.save(update_fields=list(cleaned))
    return customer
