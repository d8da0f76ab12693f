"""Schemathesis hooks for scripts/schemathesis.sh.

The API definition gives `bbox` as OGC API - Features does: an array of four or six numbers
(four to six items, `not` five). What it cannot state at all is
that values 2 and 4 are latitudes (within ±90) and that south is not north of north; the
server refuses such boxes with 400, as it should. Schema-valid cases are brought within those
rules here, so the run tests the server against every other rule the definition states;
anything else in a case (including what makes a negative case negative) is left as it was.
"""

import math

import schemathesis


def _number(value):
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


@schemathesis.hook
def map_query(context, query):
    if not query or "bbox" not in query:
        return query
    box = query["bbox"]
    # Arrays arrive serialised (style form, explode false): "w,s,e,n".
    if isinstance(box, str):
        box = box.split(",")
    # Five numbers break the definition (it says `not` five): a negative case, left alone.
    if not isinstance(box, list) or len(box) not in (4, 6):
        return query
    numbers = [_number(v) for v in box]
    if any(n is None for n in numbers):
        return query
    if len(numbers) == 4:
        west, south, east, north = numbers
        low, high = None, None
    else:
        west, south, low, east, north, high = numbers
    clamp = lambda v, limit: max(-limit, min(limit, v))
    west, east = clamp(west, 180.0), clamp(east, 180.0)
    south, north = sorted((clamp(south, 90.0), clamp(north, 90.0)))
    fixed = [west, south, east, north] if low is None else [west, south, low, east, north, high]
    query = dict(query)
    query["bbox"] = ",".join(repr(v) for v in fixed)
    return query
