"""Filters for the reports page: durations as m:ss or h:mm:ss, ratios as percentages."""

from __future__ import annotations

from django import template

from supervisor import formatting

register = template.Library()

NONE = "—"


@register.filter
def duration(seconds: float | None) -> str:
    """1:05 under an hour, 1:02:03 from an hour on; an em dash for no value."""
    if seconds is None or seconds == "":
        return NONE
    return formatting.duration(seconds)


@register.filter
def percent(ratio: float | None) -> str:
    """0.3333 → 33.3 %, 0.8 → 80 %; an em dash for no value."""
    if ratio is None or ratio == "":
        return NONE
    value = round(float(ratio) * 100, 1)
    return f"{value:.0f} %" if value == int(value) else f"{value:.1f} %"
