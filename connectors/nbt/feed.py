"""NBT's XML export, parsed strictly.

The format (`export_xml.php?date=YYYY-MM-DD&export=xmlout`, docs/fx-and-remittances.md):

    <?xml version="1.0" encoding="windows-1251"?>
    <ValCurs Date="07.03.2025" name="Foreign Currency Market">
      <Valute ID="840"><CharCode>USD</CharCode><Nominal>1</Nominal>
        <Name>Доллар США</Name><Value>10.9252</Value></Valute>
      ...
    </ValCurs>

`Value` is TJS per `Nominal` units; the rate per unit is `Value / Nominal`, exact. The
document says windows-1251 but has been served as UTF-8 bytes: UTF-8 is tried first.
A day without a publication answers with no `Valute` (or with the date of an earlier
publication): the parser reports what the document says, the client decides.

Anything else is refused whole with `MalformedFeed`: a missing or bad date, a rate that
is not a positive decimal, a nominal that is not a positive integer, an unknown or
repeated currency code, a DOCTYPE (no entity expansion, ever), more than 1 MB.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET  # the element types; parsing goes through defusedxml
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, Inexact, localcontext

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring

from ledger.money import CURRENCY_EXPONENTS

MAX_BYTES = 1_000_000
_DECIMAL = re.compile(r"^\d{1,12}(?:[.,]\d{1,12})?$")
_CODE = re.compile(r"^[A-Z]{3}$")


class MalformedFeed(ValueError):
    """The document is not an NBT rates export this parser can trust; nothing of it may be
    stored."""


@dataclass(frozen=True, slots=True)
class FeedDay:
    """What one document says: the publication's date and TJS per one unit of each
    currency it lists (empty: no publication). `skipped` lists codes the ledger's
    currency table does not know, left out (NBT lists ~30 currencies)."""

    on_date: date
    rates: dict[str, Decimal]
    skipped: tuple[str, ...] = ()


def _text(raw: bytes) -> str:
    if len(raw) > MAX_BYTES:
        raise MalformedFeed(f"the document is larger than {MAX_BYTES} bytes")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        text = raw.decode("cp1251", errors="strict")
    text = text.lstrip("\ufeff")
    if "<!DOCTYPE" in text.upper() or "<!ENTITY" in text.upper():
        raise MalformedFeed("the document declares a DOCTYPE or entities")
    # The declaration names an encoding the text no longer has: parse the text itself.
    return re.sub(r"^\s*<\?xml[^>]*\?>", "", text, count=1)


def _child(element: ET.Element, tag: str, where: str) -> str:
    found = element.find(tag)
    if found is None or found.text is None or not found.text.strip():
        raise MalformedFeed(f"{where}: no <{tag}>")
    return found.text.strip()


def _rate(value: str, nominal: str, where: str) -> Decimal:
    if not _DECIMAL.match(value):
        raise MalformedFeed(f"{where}: <Value> {value[:20]!r} is not a decimal")
    if not nominal.isdigit() or int(nominal) <= 0 or len(nominal) > 9:
        raise MalformedFeed(f"{where}: <Nominal> {nominal[:20]!r} is not a positive integer")
    amount = Decimal(value.replace(",", "."))
    if amount <= 0:
        raise MalformedFeed(f"{where}: <Value> must be positive")
    with localcontext() as ctx:
        ctx.prec = 40
        ctx.traps[Inexact] = True
        try:
            return amount / int(nominal)
        except Inexact:
            raise MalformedFeed(f"{where}: {value} / {nominal} is not an exact decimal") from None


def parse(raw: bytes) -> FeedDay:
    """Parse one export; MalformedFeed if anything in it is wrong."""
    try:
        root = fromstring(_text(raw))
    except DefusedXmlException:
        raise MalformedFeed("the document declares a DOCTYPE or entities") from None
    except (ET.ParseError, UnicodeDecodeError) as exc:
        raise MalformedFeed(f"not well-formed XML ({exc})") from None
    if root.tag != "ValCurs":
        raise MalformedFeed(f"the root element is <{root.tag[:30]}>, not <ValCurs>")
    stamp = root.get("Date", "")
    try:
        on_date = datetime.strptime(stamp, "%d.%m.%Y").date()
    except ValueError:
        raise MalformedFeed(f"<ValCurs Date={stamp[:20]!r}> is not DD.MM.YYYY") from None
    rates: dict[str, Decimal] = {}
    skipped: list[str] = []
    for index, valute in enumerate(root.findall("Valute"), start=1):
        code = _child(valute, "CharCode", f"Valute #{index}").upper()
        where = f"Valute {code[:8]!r}"
        if not _CODE.match(code):
            raise MalformedFeed(f"Valute #{index}: <CharCode> {code[:8]!r} is not ISO 4217")
        if code in rates or code in skipped:
            raise MalformedFeed(f"{where} is listed twice")
        rate = _rate(_child(valute, "Value", where), _child(valute, "Nominal", where), where)
        if code not in CURRENCY_EXPONENTS or code == "TJS":
            skipped.append(code)
            continue
        rates[code] = rate
    other = [child.tag for child in root if child.tag != "Valute"]
    if other:
        raise MalformedFeed(f"unexpected element <{other[0][:30]}> in <ValCurs>")
    return FeedDay(on_date=on_date, rates=rates, skipped=tuple(skipped))
