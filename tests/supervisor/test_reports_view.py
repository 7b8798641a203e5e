"""The supervisor's reports page and its CSV export: who may open them, how bad parameters
are refused, and the figures of a small day built through the routing services."""

from __future__ import annotations

import csv
import io
from datetime import datetime, time, timedelta

import pytest
from django.utils import timezone

from routing.models import RoutingConfig
from supervisor.templatetags.report_format import duration, percent
from tests.factories import chat_queue, make_agent, make_supervisor, make_user
from tests.workday import abandoned_chat, answered_chat, sign_in, sign_out

pytestmark = pytest.mark.django_db

PAGE = "/supervisor/reports/"
CSV = "/supervisor/reports/export.csv"


@pytest.fixture
def day():
    """Yesterday, a finished day: at 09:00 Ada signs in; a chat answered in 10 s and held
    5 min, one answered in 30 s and held 10 min, one abandoned after a minute; 30 s of
    wrap-up after each; she signs out at 10:30."""
    RoutingConfig.objects.filter(name="Web chat").update(wrap_up_seconds=30)
    yesterday = timezone.localdate() - timedelta(days=1)
    nine = timezone.make_aware(datetime.combine(yesterday, time(9)))
    ada = make_agent("ada", first_name="Ada", queues=[chat_queue()])
    sign_in(ada, nine)
    answered_chat(nine + timedelta(minutes=10), wait=10, handle=300)
    answered_chat(nine + timedelta(minutes=20), wait=30, handle=600)
    abandoned_chat(nine + timedelta(minutes=40), after=60)
    sign_out(ada, nine + timedelta(minutes=90))
    return yesterday


@pytest.fixture
def boss(client):
    client.force_login(make_supervisor())
    return client


def rows_of(response) -> list[dict[str, str]]:
    assert response["Content-Type"].startswith("text/csv")
    return list(csv.DictReader(io.StringIO(response.content.decode())))


def test_anonymous_visitors_are_sent_to_log_in(client) -> None:
    for url in (PAGE, f"{CSV}?table=queues"):
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith("/accounts/login/")


def test_agents_may_open_neither_the_reports_nor_their_csv(client) -> None:
    client.force_login(make_agent("bob").user)
    assert client.get(PAGE).status_code == 403
    assert client.get(f"{CSV}?table=queues").status_code == 403
    client.force_login(make_user())
    assert client.get(PAGE).status_code == 403


def test_a_supervisor_opens_todays_report_from_the_dashboard(boss) -> None:
    assert 'href="/supervisor/reports/"' in boss.get("/supervisor/").content.decode()
    response = boss.get(PAGE)
    assert response.status_code == 200
    page = response.content.decode()
    assert f'value="{timezone.localdate().isoformat()}"' in page
    assert 'id="report-data"' in page
    assert "vendor/chartjs/chart.umd.min.js" in page
    assert 'href="/supervisor/"' in page


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("day=yesterday", "day"),
        ("day=2026-02-30", "day"),
        ("day=2026-03-10&to=2026-03-09", "to"),
        ("day=2026-03-01&to=2026-04-02", "to"),
        ("day=2026-03-01&to=03/05/2026", "to"),
        ("interval=30", "interval"),
        ("interval=hour", "interval"),
        ("day=9999-12-31", "day"),
    ],
)
def test_a_bad_parameter_is_refused_with_its_name(boss, query, field) -> None:
    response = boss.get(f"{PAGE}?{query}")
    assert response.status_code == 400
    page = response.content.decode()
    assert f"{field}: " in page
    assert 'aria-invalid="true"' in page
    exported = boss.get(f"{CSV}?table=queues&{query}")
    assert exported.status_code == 400
    assert exported.content.decode().startswith(f"{field}: ")


def test_thirty_one_days_after_the_first_is_the_longest_range(boss) -> None:
    assert boss.get(f"{PAGE}?day=2026-03-01&to=2026-04-01&interval=1440").status_code == 200


def test_a_day_still_to_come_reports_nothing_yet(boss) -> None:
    later = timezone.localdate() + timedelta(days=3)
    response = boss.get(f"{PAGE}?day={later}&interval=15")
    assert response.status_code == 200
    assert "No contacts in any queue in this period." in response.content.decode()


def test_an_unknown_table_is_refused_by_name(boss) -> None:
    for query in ("", "table=", "table=customers"):
        response = boss.get(f"{CSV}?{query}")
        assert response.status_code == 400
        assert response.content.decode().startswith("table: ")


def test_the_queue_csv_has_each_interval_and_queue_with_the_days_figures(boss, day) -> None:
    response = boss.get(f"{CSV}?table=queues&day={day}&interval=60")
    assert response.status_code == 200
    assert response["Content-Disposition"] == (
        f'attachment; filename="report-queues-{day}-60min.csv"'
    )
    rows = rows_of(response)
    assert list(rows[0]) == [
        "interval_start",
        "interval_end",
        "queue",
        "service_level_goal",
        "offered",
        "handled",
        "abandoned",
        "expired",
        "moved_out",
        "answered_in_sl",
        "sl_counted",
        "service_level",
        "average_speed_of_answer_seconds",
        "average_handle_time_seconds",
        "occupancy",
    ]
    queues = {row["queue"] for row in rows}
    assert len(rows) == 24 * len(queues)
    nine = [row for row in rows if row["queue"] == "Web chat" and "T09:00" in row["interval_start"]]
    assert len(nine) == 1
    assert nine[0]["interval_start"] == f"{day}T09:00:00+00:00"
    assert {key: nine[0][key] for key in list(nine[0])[3:]} == {
        "service_level_goal": "0.8",
        "offered": "3",
        "handled": "2",
        "abandoned": "1",
        "expired": "0",
        "moved_out": "0",
        "answered_in_sl": "1",
        "sl_counted": "3",
        "service_level": "0.3333",
        "average_speed_of_answer_seconds": "20.0",
        # (300 + 30 + 600 + 30) / 2: after-contact work counts.
        "average_handle_time_seconds": "480.0",
        # Busy: 09:10:10 → 09:15:40 (330 s) + 09:20:30 → 09:31:00 (630 s) = 960 s, all Ada's;
        # staffed: hers, who held the queue's work this hour, Available all 3,600 s with her
        # work inside it: 960 / 3600 = 0.2667.
        "occupancy": "0.2667",
    }
    # 10:00–11:00: Ada was Available until 10:30 but held no Web chat work, so the queue had
    # no staffed time: no occupancy, an empty cell.
    ten = next(r for r in rows if r["queue"] == "Web chat" and "T10:00" in r["interval_start"])
    assert (ten["offered"], ten["service_level"], ten["occupancy"]) == ("0", "", "")


def test_the_channel_and_agent_csvs_carry_their_figures(boss, day) -> None:
    channels = rows_of(boss.get(f"{CSV}?table=channels&day={day}&to={day}&interval=1440"))
    assert len(channels) == 1
    (chat,) = channels
    assert chat["channel"] == "chat"
    assert (chat["offered"], chat["handled"], chat["abandoned"]) == ("3", "2", "1")
    assert (chat["service_level"], chat["bot_resolved"]) == ("0.3333", "0")
    # Busy (300 + 30) + (600 + 30) = 960 s; staffed: that of who held chat work this day,
    # Ada alone, Available (open for work) 09:00–10:30 = 5,400 s with her chats inside it
    # → 960 / 5400 = 0.1778.
    assert chat["occupancy"] == "0.1778"
    agents = rows_of(boss.get(f"{CSV}?table=agents&day={day}"))
    ada = next(row for row in agents if row["agent"] == "Ada")
    assert ada["seconds_in_status:Available"] == "5400"
    assert ada["seconds_in_status:Offline"] == str(24 * 3600 - 5400)
    assert list(ada)[:4] == ["period_start", "period_end", "agent", "team"]
    assert list(ada)[-8:] == [
        "open_for_work_seconds",
        "staffed_seconds",
        "handled",
        "average_handle_time_seconds",
        "accepted",
        "declined",
        "missed",
        "occupancy",
    ]
    assert "signed_in_seconds" not in ada
    # Open for work = staffed = 09:00–10:30 Available = 5,400 s.
    assert (ada["open_for_work_seconds"], ada["staffed_seconds"]) == ("5400", "5400")
    assert (ada["handled"], ada["accepted"]) == ("2", "2")
    assert (ada["average_handle_time_seconds"], ada["occupancy"]) == ("480.0", "0.1778")
    assert (ada["declined"], ada["missed"]) == ("0", "0")


def test_the_page_shows_intervals_with_contacts_totals_and_the_goal_missed(boss, day) -> None:
    response = boss.get(f"{PAGE}?day={day}&interval=15")
    assert response.status_code == 200
    context = response.context
    chat_rows = [row for row in context["queue_rows"] if row["queue"] == "Web chat"]
    # 09:00-09:15 (answered, ended), 09:15-09:30 (answered), 09:30-09:45 (ended, abandoned);
    # empty quarters are left out.
    assert [row["label"] for row in chat_rows] == ["09:00–09:15", "09:15–09:30", "09:30–09:45"]
    total = next(row for row in context["queue_totals"] if row["queue"] == "Web chat")
    assert (total["offered"], total["handled"], total["abandoned"]) == (3, 2, 1)
    assert (total["service_level"], total["below_goal"]) == (0.3333, True)
    assert (total["average_speed_of_answer"], total["average_handle_time"]) == (20.0, 480.0)
    # Summed busy / summed staffed, not a mean of ratios. Busy per quarter: 09:00–09:15 290 s
    # (09:10:10 → 09:15), 09:15–09:30 40 s (→ 09:15:40) + 570 s (09:20:30 →), 09:30–09:45
    # 60 s (→ 09:31:00): 960 s. Staffed: Ada's 900 s in each of those three quarters, the
    # ones where she held the queue's work (09:45–10:30 she was Available but held none):
    # 2,700 s → 960 / 2700 = 0.3556. Per quarter: 0.3222, 0.6778, 0.0667.
    assert [row["occupancy"] for row in chat_rows] == [0.3222, 0.6778, 0.0667]
    assert (total["busy_seconds"], total["staffed_seconds"]) == (960.0, 2700.0)
    assert total["occupancy"] == 0.3556
    page = response.content.decode()
    assert "33.3 % (80 %)" in page
    assert "below goal" in page
    assert ">0:20<" in page and ">8:00<" in page  # ASA and AHT as m:ss
    assert ">1:30:00<" in page  # Ada's time open for work and staffed, as h:mm:ss
    csv_links = [f"table={table}&amp;day={day}&amp;interval=15" for table in ("queues", "agents")]
    assert all(link in page for link in csv_links)


def test_the_page_leaves_out_agents_offline_all_period_with_no_offers(boss, day) -> None:
    # The evening before the day: Dee picks the reference "Offline" status (no channels) and
    # Eve goes on Break; Cy never signs in. None of them is offered anything.
    evening = timezone.make_aware(datetime.combine(day - timedelta(days=1), time(18)))
    make_agent("cy", first_name="Cy")
    sign_in(make_agent("dee", first_name="Dee"), evening, "Offline")
    sign_in(make_agent("eve", first_name="Eve"), evening, "Break")
    agents = {row["agent"]: row for row in boss.get(f"{PAGE}?day={day}").context["agents"]}
    # Cy (no status) and Dee (the "Offline" status) were offline all day: left out. Eve spent
    # the day on a break: listed, 24 h in Break, never open for work nor staffed.
    assert sorted(agents) == ["Ada", "Eve"]
    assert agents["Eve"]["seconds_in_status"] == {"Break": 24 * 3600}
    assert (agents["Eve"]["open_for_work_seconds"], agents["Eve"]["staffed_seconds"]) == (0, 0)
    assert agents["Eve"]["occupancy"] is None
    # The CSV lists everyone; Dee's day is 24 h "Offline", none of it staffed.
    exported = {row["agent"]: row for row in rows_of(boss.get(f"{CSV}?table=agents&day={day}"))}
    assert sorted(exported) == ["Ada", "Cy", "Dee", "Eve"]
    assert exported["Dee"]["seconds_in_status:Offline"] == str(24 * 3600)
    assert (exported["Dee"]["open_for_work_seconds"], exported["Dee"]["staffed_seconds"]) == (
        "0",
        "0",
    )


def test_durations_read_as_minutes_and_seconds_or_hours() -> None:
    assert [duration(value) for value in (None, 0, 59.6, 480, 3599, 3600, 93784)] == [
        "—",
        "0:00",
        "1:00",
        "8:00",
        "59:59",
        "1:00:00",
        "26:03:04",
    ]
    assert [percent(value) for value in (None, 0.8, 0.3333, 1.0)] == [
        "—",
        "80 %",
        "33.3 %",
        "100 %",
    ]
