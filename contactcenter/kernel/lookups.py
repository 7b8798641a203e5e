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


def sql_any_of(
    column: str, values: list[Any], connection: Any, *, column_type: str = "bigint"
) -> tuple[str, list[Any]]:
    """``column`` in a list, for hand-written SQL on any database: on PostgreSQL one array of
    ``column_type`` (the values must be integers), elsewhere ``IN`` with a parameter each."""
    if connection.vendor == "postgresql":
        return f"{column} = ANY(%s::{column_type}[])", [pg_int_array(values)]
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
        column_type = self.lhs.output_field.rel_db_type(connection)
        integers = column_type in ("integer", "bigint", "smallint") and all(
            type(value) is int for value in values
        )
        if connection.vendor == "postgresql" and not integers:
            return f"{lhs} = ANY(%s)", [*lhs_params, values]
        sql, params = sql_any_of(lhs, values, connection, column_type=column_type)
        return sql, [*lhs_params, *params]


Field.register_lookup(AnyOf)
# Related fields keep lookups of their own; ``agent_id__any`` compares the key column.
ForeignObject.register_lookup(AnyOf)
