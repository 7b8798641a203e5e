"""The supervisor's reports in real Chromium against a real Daphne: yesterday's chats, worked
through the routing services before the server starts, drawn by Chart.js and tabled per
interval; another interval reloads the tables; without Chart.js the tables still show."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from tests.browser.conftest import REPO, copy_database, embedded_env, running_server
from tests.browser.test_chat_in_browser import DOCS, SCREENSHOTS, log_in

pytestmark = pytest.mark.browser
VIEWPORT = {"width": 1280, "height": 900}
AGENTS = ("agent01", "agent02", "agent03", "agent04")
BUILD_DAY = (
    "import django, sys; django.setup(); from datetime import date; "
    "from tests.workday import busy_day; "
    "busy_day(date.fromisoformat(sys.argv[1]), usernames=tuple(sys.argv[2:]))"
)


@pytest.fixture(scope="module")
def yesterday() -> str:
    return (timezone.localdate() - timedelta(days=1)).isoformat()


@pytest.fixture(scope="module")
def reports_server(tmp_path_factory, seeded_database, yesterday) -> Iterator[str]:
    """The demo data, and a day of chats yesterday, before the server starts."""
    tmp_path = tmp_path_factory.mktemp("reports-server")
    env = embedded_env(tmp_path)
    built = tmp_path / "with-yesterday.sqlite3"
    copy_database(seeded_database, built)
    subprocess.run(
        [sys.executable, "-c", BUILD_DAY, yesterday, *AGENTS],
        env={**env, "SQLITE_PATH": str(built)},
        cwd=REPO,
        check=True,
    )
    with running_server(tmp_path, database=built) as url:
        yield url


def test_a_supervisor_reads_yesterday_in_charts_and_tables(
    reports_server, browser, yesterday
) -> None:
    context = browser.new_context(viewport=VIEWPORT)
    try:
        page = context.new_page()
        log_in(page, reports_server, "supervisor", "supervisor-demo", "/supervisor/")
        page.get_by_role("link", name="Reports").click()
        page.wait_for_url(f"{reports_server}/supervisor/reports/")
        page.get_by_label("Day", exact=True).fill(yesterday)
        page.get_by_role("button", name="Show").click()
        page.wait_for_url(f"**/supervisor/reports/?day={yesterday}&to=&interval=60")

        queues = page.get_by_role("table", name="Queues per interval")
        hourly = queues.locator("tbody").first.get_by_role("row")
        expect(hourly.filter(has_text="10:00–11:00")).to_contain_text("Web chat")
        expect(queues.locator("td.below-goal").first).to_contain_text("below goal")
        expect(page.get_by_role("table", name="Agents over the period")).to_contain_text(
            "Ada Lovelace"
        )
        # Chart.js is loaded and both charts drew on their canvases.
        page.wait_for_function(
            "() => window.Chart && Chart.getChart('traffic-chart') && "
            "Chart.getChart('occupancy-chart')"
        )
        datasets = page.evaluate(
            "() => Chart.getChart('traffic-chart').data.datasets.map((set) => set.label)"
        )
        assert datasets[:4] == ["Offered", "Handled", "Abandoned", "Service level %"]
        assert datasets[4].startswith("Goal ")
        assert page.locator("#traffic-chart").bounding_box()["height"] > 100
        expect(page.get_by_text("Charts are unavailable")).to_be_hidden()
        hours = hourly.count()

        if SCREENSHOTS:
            DOCS.mkdir(exist_ok=True)
            page.screenshot(path=str(DOCS / "reports.png"))

        page.get_by_label("Interval", exact=True).select_option(label="15 minutes")
        page.get_by_role("button", name="Show").click()
        page.wait_for_url("**interval=15")
        expect(queues.locator("tbody").first).to_contain_text("10:15–10:30")
        assert hourly.count() > hours
        expect(page.get_by_role("link", name="queues", exact=True)).to_have_attribute(
            "href", f"/supervisor/reports/export.csv?table=queues&day={yesterday}&interval=15"
        )
    finally:
        context.close()


def test_the_tables_stay_when_chart_js_cannot_load(reports_server, browser, yesterday) -> None:
    context = browser.new_context(viewport=VIEWPORT)
    try:
        page = context.new_page()
        page.route("**/vendor/chartjs/**", lambda route: route.abort())
        log_in(page, reports_server, "supervisor", "supervisor-demo", "/supervisor/")
        page.goto(f"{reports_server}/supervisor/reports/?day={yesterday}")
        expect(page.get_by_text("Charts are unavailable")).to_be_visible()
        expect(page.get_by_role("table", name="Queues per interval")).to_contain_text("Web chat")
    finally:
        context.close()
