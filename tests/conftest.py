from __future__ import annotations

import os
from collections import Counter
from typing import Any

import pytest

from contactcenter.kernel.protocol import FrameSchemaError, check_server_frame, server_event_types
from contactcenter.kernel.realtime import frame_built
from tests.services import require

SERVICE_MARKERS = ("postgres", "redis", "browser")

# `make test` runs the suite on three workers (pytest-xdist, ``--dist loadgroup``, in the
# order collected; each worker starts with the first two units of work in that order). Tests
# that start servers of their own run as whole groups: the scaled-out stack, the browser modules
# (one seeded database for all of them) and the PostgreSQL rerun of the unit suites (CI) first,
# one per worker, then the unit suites; the load test last. It keeps both cores busy for as
# long as it runs (four workers and two round slots by design): beside anything else it
# stretches, and stretches what runs beside it (measured: 245 s instead of 140 s).
GROUPS = {
    "tests/integration/test_scaled_out_chat.py": "stack",
    "tests/integration/test_smtp_listener.py": "stack",
    "tests/browser/": "browser",
    "tests/integration/test_suite_on_postgres.py": "postgres-rerun",
    "tests/integration/test_routing_under_load.py": "load",
}
FIRST = ["stack", "browser", "postgres-rerun"]
LAST = ["load"]


class RunOrder:
    """Puts the tests in the order the workers take them (GROUPS), after pytest-django's own
    reordering."""

    @pytest.hookimpl(trylast=True)
    def pytest_collection_modifyitems(
        self, config: pytest.Config, items: list[pytest.Item]
    ) -> None:
        items.sort(key=run_order)
        # xdist groups an item by a suffix it adds to the item's id; where it cannot (pytest
        # 9.2 made ids structured), every test would run on its own, module fixtures and all.
        if config.getoption("loadgroup", default=False) and any(
            group_of(item) and "@" not in item.nodeid for item in items
        ):
            raise pytest.UsageError("pytest-xdist cannot group tests with this pytest version")


def pytest_configure(config: pytest.Config) -> None:
    config.pluginmanager.register(RunOrder(), "contactcenter-run-order")


def run_order(item: pytest.Item) -> int:
    group = group_of(item)
    if group in FIRST:
        return FIRST.index(group)
    if group in LAST:
        return len(FIRST) + 1 + LAST.index(group)
    return len(FIRST)


# Fixtures through which a test reaches the database.
DATABASE_FIXTURES = frozenset(
    {"db", "transactional_db", "django_db_reset_sequences", "django_db_serialized_rollback"}
)


def uses_database(item: pytest.Item) -> bool:
    return bool(
        item.get_closest_marker("django_db")
        or DATABASE_FIXTURES & set(getattr(item, "fixturenames", ()))
    )


def group_of(item: pytest.Item) -> str | None:
    path = item.nodeid.split("::", 1)[0]
    return next((group for prefix, group in GROUPS.items() if path.startswith(prefix)), None)


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark each grouped test with its xdist group, before xdist reads the marks.
    The PostgreSQL rerun (tests/integration/test_suite_on_postgres.py) keeps only the tests
    that touch the database."""
    if os.environ.get("POSTGRES_RERUN"):
        pure = [item for item in items if not uses_database(item)]
        if pure:
            config.hook.pytest_deselected(items=pure)
            items[:] = [item for item in items if uses_database(item)]
    for item in items:
        group = group_of(item)
        if group is not None:
            item.add_marker(pytest.mark.xdist_group(group))


def pytest_runtest_setup(item: pytest.Item) -> None:
    for marker in SERVICE_MARKERS:
        if item.get_closest_marker(marker) is not None:
            require(marker)


@pytest.fixture(autouse=True)
def _in_memory_channel_layer(settings) -> None:
    """Unit and consumer tests run on the embedded layer, whatever the environment says."""
    settings.CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
    settings.CELERY_TASK_ALWAYS_EAGER = True
    settings.EMBEDDED_TICKER = False
    settings.DEMO_TRAFFIC = False
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def committed(django_capture_on_commit_callbacks):
    """Run a block as if its transaction committed: rounds and pushes happen, as in production."""
    return lambda: django_capture_on_commit_callbacks(execute=True)


@pytest.fixture
def reference_data(transactional_db) -> None:
    """Transactional tests flush every table afterwards, the migration's rows included."""
    from django.apps import apps

    from routing.reference import create_reference_data

    create_reference_data(apps)


@pytest.fixture(autouse=True)
def _round_requests_forgotten_after_each_test():
    """A test's transaction never commits: the round requests it made must not be served
    with the next test's."""
    yield
    from routing.services import triggers

    triggers.forget_unserved()


@pytest.fixture(autouse=True)
def _routing_configuration_forgotten_after_each_test():
    """Each process keeps intake rules and channel settings until a save says otherwise; a
    test's rolled-back saves must not leave the next test reading them."""
    yield
    from routing import intake

    intake.new_version()


@pytest.fixture(autouse=True)
def _chats_end_when_the_visitor_leaves(settings) -> None:
    """Most tests read a closed socket as a visitor who left; the resume tests give a grace."""
    settings.CHAT_RESUME_SECONDS = 0


class FrameCheck:
    """Checks every frame the code builds (``realtime.envelope``: pushes to groups, batches,
    and what consumers send directly) against its type's schema in the protocol, and that it
    survives a trip through JSON unchanged. ``frames`` are those that passed; ``problems``
    say what was wrong with the others."""

    def __init__(self) -> None:
        self.frames: list[dict[str, Any]] = []
        self.problems: list[str] = []

    def __call__(self, frame: dict[str, Any]) -> None:
        # Record, never raise: the frame is built inside an after-commit callback or a
        # consumer, which would swallow or answer the exception instead of failing the test.
        try:
            check_server_frame(frame)
        except FrameSchemaError as problem:
            self.problems.append(str(problem))
        else:
            self.frames.append(frame)


# Frames checked during the whole run, by type, for the summary at the end.
frames_checked: Counter[str] = Counter()


@pytest.fixture(autouse=True)
def checked_frames():
    """Every frame a test makes the code build must match docs/protocol.md's schema
    (contactcenter/kernel/protocol.py); one that does not fails the test that built it."""
    check = FrameCheck()
    frame_built.connect(check)
    try:
        yield check
    finally:
        frame_built.disconnect(check)
    frames_checked.update(frame["type"] for frame in check.frames)
    if check.problems:
        pytest.fail(
            f"{len(check.problems)} frame(s) built by this test do not match the protocol "
            "(contactcenter/kernel/protocol.py, docs/protocol.md):\n" + "\n".join(check.problems),
            pytrace=False,
        )


def pytest_sessionfinish(session: pytest.Session) -> None:
    # On an xdist worker: hand the counts to the controller, which prints the summary.
    workeroutput = getattr(session.config, "workeroutput", None)
    if workeroutput is not None:
        workeroutput["frames_checked"] = dict(frames_checked)


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node: Any, error: Any) -> None:
    frames_checked.update(getattr(node, "workeroutput", {}).get("frames_checked", {}))


def pytest_terminal_summary(terminalreporter) -> None:
    if not frames_checked:
        return
    total = sum(frames_checked.values())
    terminalreporter.write_line(
        f"event schemas: {total} frames of {len(frames_checked)} types checked against "
        "contactcenter/kernel/protocol.py"
    )
    unseen = sorted(server_event_types() - set(frames_checked))
    if unseen:
        terminalreporter.write_line(f"event schemas: no frame of {', '.join(unseen)} was built")
