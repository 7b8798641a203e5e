"""``<id:name>``: the one path converter for ids in the REST edge's URLs.

Any run of digits matches, so that every id in a URL answers in JSON. A number beyond what a
64-bit key holds (``kernel.ids.MAX_ID``) cannot name a row, and would overflow in the
database if it reached a query; it becomes 0 instead, an id no row has (keys count from 1),
so the view's ordinary lookup answers 404 naming the id's field, exactly as for any other
id that names nothing. Refusing such a number in the converter instead would make Django
answer its own HTML 404 before any view (or the JSON error handler) runs.
"""

from __future__ import annotations

from contactcenter.kernel.ids import MAX_ID

# The id no row has, which a number beyond MAX_ID becomes.
NO_ROW = 0
_MAX_DIGITS = len(str(MAX_ID))


class IdConverter:
    regex = "[0-9]+"

    def to_python(self, value: str) -> int:
        # Compare lengths first: a number of thousands of digits is not even parsed.
        digits = value.lstrip("0")
        if len(digits) > _MAX_DIGITS:
            return NO_ROW
        number = int(digits or "0")
        return number if number <= MAX_ID else NO_ROW

    def to_url(self, value: int) -> str:
        return str(int(value))
