"""Small formatting shared by the dashboard, the reports and their templates."""

from __future__ import annotations


def duration(seconds: float) -> str:
    """1:05 under an hour, 1:02:03 from an hour on."""
    total = round(float(seconds))
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def rounded(value: float | None, digits: int | None = None) -> float | int | None:
    """``round`` that passes None through (no digits: a whole number)."""
    return None if value is None else round(value, digits)
