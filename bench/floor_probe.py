"""What bench/floor.py reads of the server's processes and database while the floor runs:
CPU time and resident memory from /proc, row writes and connections from PostgreSQL's
statistics views. Linux only (/proc).

The server is every process of the stack (Daphnes, Celery workers with their pool processes,
beat), the PostgreSQL backends connected to the run's throwaway database, and the Redis
server. PostgreSQL's own background processes (checkpointer, WAL writer, ...) and other
databases' backends serve everyone on this machine and are left out; the Redis server is
shared too, so its share is also given on its own.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import psycopg
import redis

TICKS_PER_SECOND = os.sysconf("SC_CLK_TCK")


def cpu_ticks(pid: int) -> int | None:
    """User + system CPU ticks of one process; None when it is gone or unreadable."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # The command name (field 2) may hold spaces; the fields after its ')' are fixed.
    fields = stat.rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])


def rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def descendants(roots: list[int]) -> list[int]:
    """`roots` and every process below them."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        children.setdefault(parent, []).append(int(entry.name))
    found, todo = [], list(roots)
    while todo:
        pid = todo.pop()
        found.append(pid)
        todo.extend(children.get(pid, []))
    return found


class Database:
    """The readings of the run's database, on one connection opened before the load: when the
    server's processes take every connection PostgreSQL allows, the readings still get
    through. psycopg serialises the threads that share it."""

    def __init__(self, database_url: str) -> None:
        self.conn = psycopg.connect(database_url, autocommit=True, connect_timeout=5)

    def close(self) -> None:
        self.conn.close()

    def backends(self) -> list[int]:
        """PIDs of the backends connected to this database (this reader's own excluded)."""
        rows = self.conn.execute(
            "SELECT pid FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        ).fetchall()
        return [pid for (pid,) in rows]

    def writes(self) -> tuple[int, dict[str, int]]:
        """Rows inserted + updated + deleted in this database so far, and per user table."""
        # Statistics are read as of now, not as of this connection's first look at them.
        self.conn.execute("SELECT pg_stat_clear_snapshot()")
        (total,) = self.conn.execute(
            "SELECT tup_inserted + tup_updated + tup_deleted FROM pg_stat_database "
            "WHERE datname = current_database()"
        ).fetchone()
        tables = self.conn.execute(
            "SELECT relname, n_tup_ins + n_tup_upd + n_tup_del FROM pg_stat_user_tables"
        ).fetchall()
        return int(total), {name: int(rows) for name, rows in tables}

    def rows(self, query: str) -> list[tuple]:
        return self.conn.execute(query).fetchall()

    def count(self, query: str, *params: object) -> int:
        (value,) = self.conn.execute(query, params).fetchone()
        return int(value)


def redis_server_pid(redis_url: str) -> int | None:
    client = redis.Redis.from_url(redis_url, socket_timeout=5)
    try:
        pid = int(client.info("server")["process_id"])
    finally:
        client.close()
    return pid if cpu_ticks(pid) is not None else None


@dataclass
class CpuSample:
    ticks: dict[str, dict[int, int]]  # group -> pid -> ticks


def sample_cpu(groups: dict[str, list[int]]) -> CpuSample:
    ticks: dict[str, dict[int, int]] = {}
    for group, pids in groups.items():
        ticks[group] = {pid: t for pid in pids if (t := cpu_ticks(pid)) is not None}
    return CpuSample(ticks)


def cpu_percent(before: CpuSample, after: CpuSample, seconds: float) -> dict[str, float]:
    """Per group, % of one core between the samples. A process first seen in `after` counts
    from zero (it started meanwhile); one gone by then is lost (short-lived backends)."""
    shares = {}
    for group, ticks in after.ticks.items():
        old = before.ticks.get(group, {})
        used = sum(t - old.get(pid, 0) for pid, t in ticks.items())
        shares[group] = 100 * used / TICKS_PER_SECOND / seconds
    return shares
