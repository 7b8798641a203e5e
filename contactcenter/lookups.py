"""``field__any=[...]``: membership in a list as one array parameter on PostgreSQL.

``field__in`` with a few thousand ids (a routing round's items and agents) costs more to
compile in Python, one parameter each, than the query costs the database. PostgreSQL takes
the whole list as one array (``= ANY(%s)``); other databases get the usual ``IN``.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db.models import Field, ForeignObject, Lookup


def pg_int_array(values: Iterable[int]) -> str:
    """An integer list as one PostgreSQL array literal, e.g. ``{1,2,3}``; cast it in the SQL.

    psycopg adapts a Python list element by element, which costs about a microsecond per
    id; a round passes several lists of thousands of ids, and the text form costs a join.
    """
    return "{" + ",".join(str(int(value)) for value in values) + "}"


def sql_any_of(column: str, values: list[int], connection: Any) -> tuple[str, list[Any]]:
    """``column`` in a list of integer ids, for hand-written SQL on any database."""
    if connection.vendor == "postgresql":
        return f"{column} = ANY(%s::bigint[])", [pg_int_array(values)]
    if not values:
        return "1 = 0", []
    return f"{column} IN ({', '.join(['%s'] * len(values))})", list(values)


class AnyOf(Lookup):
    lookup_name = "any"
    prepare_rhs = False

    def get_prep_lookup(self) -> list[Any]:
        return list(self.rhs)

    def as_sql(self, compiler: Any, connection: Any) -> tuple[str, list[Any]]:
        lhs, lhs_params = self.process_lhs(compiler, connection)
        values = list(self.rhs)
        if connection.vendor == "postgresql":
            column_type = self.lhs.output_field.rel_db_type(connection)
            if column_type in ("integer", "bigint", "smallint") and all(
                type(value) is int for value in values
            ):
                return f"{lhs} = ANY(%s::{column_type}[])", [*lhs_params, pg_int_array(values)]
            return f"{lhs} = ANY(%s)", [*lhs_params, values]
        if not values:
            return "1 = 0", list(lhs_params)
        return f"{lhs} IN ({', '.join(['%s'] * len(values))})", [*lhs_params, *values]


Field.register_lookup(AnyOf)
# Related fields keep lookups of their own; ``agent_id__any`` compares the key column.
ForeignObject.register_lookup(AnyOf)
