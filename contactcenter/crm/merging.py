"""Merging two customer records that turn out to be one person."""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction

from contactcenter.crm.models import Case, ContactPoint, Customer, CustomerMerge, Interaction, Order
from contactcenter.kernel.errors import InvalidInput, NotFound


def merge_customers(
    *, survivor_id: int, merged_id: int, by: AbstractBaseUser | None = None
) -> CustomerMerge:
    """Move everything of ``merged_id`` to ``survivor_id``, record it, delete the merged record.

    Contact points, orders and cases (with their interactions and messages) move; the survivor keeps
    its own name and fields and takes the merged customer's where its own are empty; notes
    are kept from both. Both rows are locked, in id order, so concurrent merges of the same
    customers cannot interleave.
    """
    if survivor_id == merged_id:
        raise InvalidInput("A customer cannot be merged into itself.", field="merge")
    with transaction.atomic():
        locked = {
            customer.pk: customer
            for customer in Customer.objects.select_for_update()
            .filter(pk__in=[survivor_id, merged_id])
            .order_by("pk")
        }
        if survivor_id not in locked:
            raise NotFound(f"No customer {survivor_id}.", field="survivor")
        if merged_id not in locked:
            raise NotFound(f"No customer {merged_id}.", field="merge")
        survivor, merged = locked[survivor_id], locked[merged_id]
        points = list(merged.contact_points.values_list("kind", "value"))
        case_ids = list(merged.cases.values_list("pk", flat=True))
        order_numbers = list(merged.orders.values_list("number", flat=True))
        ContactPoint.objects.filter(customer=merged).update(customer=survivor)
        Case.objects.filter(customer=merged).update(customer=survivor)
        Order.objects.filter(customer=merged).update(customer=survivor)
        own_fields = {"tier": merged.tier, "language": merged.language, "notes": merged.notes}
        changed = []
        for field in ("tier", "language"):
            if not getattr(survivor, field) and own_fields[field]:
                setattr(survivor, field, own_fields[field])
                changed.append(field)
        if merged.notes:
            survivor.notes = "\n\n".join(
                part for part in (survivor.notes, f"From {merged.name}: {merged.notes}") if part
            )
            changed.append("notes")
        if changed:
            survivor.save(update_fields=changed)
        record = CustomerMerge.objects.create(
            survivor=survivor,
            merged_customer_id=merged.pk,
            merged_name=merged.name,
            merged_by=by if by is not None and by.is_authenticated else None,
            moved={
                "contact_points": [{"kind": kind, "value": value} for kind, value in points],
                "case_ids": case_ids,
                "orders": order_numbers,
                "interactions": Interaction.objects.filter(case_id__in=case_ids).count(),
                "fields": own_fields,
            },
        )
        # Merges recorded into the merged customer stay readable on the survivor.
        CustomerMerge.objects.filter(survivor=merged).update(survivor=survivor)
        merged.delete()
    return record
