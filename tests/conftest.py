from __future__ import annotations

import pytest

from tests.services import require

SERVICE_MARKERS = ("postgres", "redis", "browser")


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
