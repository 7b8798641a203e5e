"""The range of ids: every primary key is a positive 64-bit integer.

Edges check ids from outside against it before a query sees them, since a larger number
would overflow in the database (PostgreSQL's ``bigint``) instead of simply naming no row.
"""

from __future__ import annotations

# The largest id a 64-bit primary key holds.
MAX_ID = 2**63 - 1
