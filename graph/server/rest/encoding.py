"""JSON bodies whose amounts are numbers with exactly the currency's decimals.

`-120.50` must reach the client as the number `-120.50`: not a float (which would print
`-120.5` or worse), not a string. orjson writes a `Fragment` verbatim, so each amount is
formatted by the ledger and embedded as it is.
"""

from __future__ import annotations

from typing import Any

import orjson
from starlette.responses import Response

from ledger.money import Money


def amount(money: Money) -> orjson.Fragment:
    return orjson.Fragment(money.format().encode())


def maybe_amount(money: Money | None) -> orjson.Fragment | None:
    return None if money is None else amount(money)


class ExactJSONResponse(Response):
    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content)
