"""The sandbox's copy of the National Bank of Tajikistan's daily rates export.

`GET /nbt/kurs/export_xml.php?date=YYYY-MM-DD&export=xmlout` answers in NBT's format
(docs/fx-and-remittances.md): `<ValCurs Date="DD.MM.YYYY">` with one `<Valute>` per
currency (`CharCode`, `Nominal`, `Value` = TJS per Nominal units), declared windows-1251
and sent as UTF-8 bytes, as NBT's own server does. The rates are the sandbox's official
ones (`money.nbt_rate`), the same the bank's own rates and remittances are priced from, so
every figure is deterministic and offline. Saturdays, Sundays and Tajikistan's fixed public
holidays have no publication: the document lists no currency. No date: today's.
"""

from __future__ import annotations

from datetime import date

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from connectors.sandbox.catalog import NBT_RATES
from connectors.sandbox.money import nbt_rate
from connectors.sandbox.web import bank_of

PATH = "/nbt/kurs/export_xml.php"
# Fixed-date public holidays (New Year, Women's Day, Navruz, Labour Day, Victory Day,
# National Unity Day, Independence Day, Constitution Day).
HOLIDAYS = frozenset(
    {(1, 1), (3, 8), (3, 21), (3, 22), (3, 23), (3, 24), (5, 1), (5, 9), (6, 27), (9, 9), (11, 6)}
)
_VALUTES = {
    "USD": ("840", "Доллар США"),
    "EUR": ("978", "Евро"),
    "RUB": ("643", "Российский рубль"),
}


def published(day: date) -> bool:
    return day.weekday() < 5 and (day.month, day.day) not in HOLIDAYS


def document(day: date) -> bytes:
    lines = [
        '<?xml version="1.0" encoding="windows-1251"?>',
        f'<ValCurs Date="{day:%d.%m.%Y}" name="Foreign Currency Market">',
    ]
    if published(day):
        for code in sorted(NBT_RATES, key=lambda c: _VALUTES[c][0]):
            num, name = _VALUTES[code]
            lines.append(
                f'  <Valute ID="{num}">\n    <CharCode>{code}</CharCode>\n'
                f"    <Nominal>1</Nominal>\n    <Name>{name}</Name>\n"
                f"    <Value>{nbt_rate(code, day)}</Value>\n  </Valute>"
            )
    lines.append("</ValCurs>")
    return ("\n".join(lines) + "\n").encode("utf-8")


async def export_xml(request: Request) -> Response:
    text = request.query_params.get("date", "")
    try:
        day = date.fromisoformat(text) if text else bank_of(request).now().date()
    except ValueError:
        return Response("bad date", status_code=400, media_type="text/plain")
    return Response(document(day), media_type="text/xml; charset=windows-1251")


def nbt_routes() -> list[Route]:
    return [Route(PATH, export_xml)]
