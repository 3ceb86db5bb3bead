"""NBT's XML export: a real-format sample parses into exact per-unit rates; anything
malformed is refused whole."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from connectors.nbt.feed import MalformedFeed, parse

# The shape NBT's export_xml.php answers with (declared windows-1251, sent as UTF-8).
SAMPLE = """<?xml version="1.0" encoding="windows-1251"?>
<ValCurs Date="03.02.2025" name="Foreign Currency Market">
  <Valute ID="840"><CharCode>USD</CharCode><Nominal>1</Nominal>
    <Name>Доллар США</Name><Value>10.9252</Value></Valute>
  <Valute ID="978"><CharCode>EUR</CharCode><Nominal>1</Nominal>
    <Name>Евро</Name><Value>11.3382</Value></Valute>
  <Valute ID="643"><CharCode>RUB</CharCode><Nominal>1</Nominal>
    <Name>Российский рубль</Name><Value>0.1153</Value></Valute>
  <Valute ID="398"><CharCode>KZT</CharCode><Nominal>100</Nominal>
    <Name>Казахский тенге</Name><Value>2.1127</Value></Valute>
  <Valute ID="860"><CharCode>UZS</CharCode><Nominal>1000</Nominal>
    <Name>Узбекский сум</Name><Value>0.8431</Value></Valute>
  <Valute ID="960"><CharCode>XDR</CharCode><Nominal>1</Nominal>
    <Name>СДР</Name><Value>14.2711</Value></Valute>
</ValCurs>
"""


def test_a_real_format_sample_gives_exact_rates_per_unit():
    day = parse(SAMPLE.encode("utf-8"))

    assert day.on_date == date(2025, 2, 3)
    assert day.rates == {
        "USD": Decimal("10.9252"),
        "EUR": Decimal("11.3382"),
        "RUB": Decimal("0.1153"),
        "KZT": Decimal("2.1127") / 100,
        "UZS": Decimal("0.8431") / 1000,
    }
    assert str(day.rates["UZS"]) == "0.0008431"
    assert day.skipped == ("XDR",)  # not in the ledger's currency table


def test_the_declared_encoding_is_honoured_when_the_bytes_are_not_utf8():
    assert parse(SAMPLE.encode("cp1251")).rates["USD"] == Decimal("10.9252")


def test_a_day_without_a_publication_lists_no_currency():
    day = parse(b'<?xml version="1.0"?><ValCurs Date="08.02.2025" name="x"></ValCurs>')
    assert (day.on_date, day.rates) == (date(2025, 2, 8), {})


def _valute(code: str = "USD", nominal: str = "1", value: str = "10.9252") -> str:
    return (
        f"<Valute ID='840'><CharCode>{code}</CharCode><Nominal>{nominal}</Nominal>"
        f"<Value>{value}</Value></Valute>"
    )


@pytest.mark.parametrize(
    ("document", "reason"),
    [
        ("<ValCurs Date='03.02.2025'>" + _valute(), "not well-formed"),
        ("<Rates Date='03.02.2025'></Rates>", "not <ValCurs>"),
        ("<ValCurs Date='2025-02-03'></ValCurs>", "DD.MM.YYYY"),
        ("<ValCurs></ValCurs>", "DD.MM.YYYY"),
        ("<ValCurs Date='31.02.2025'></ValCurs>", "DD.MM.YYYY"),
        (f"<ValCurs Date='03.02.2025'>{_valute(value='10,92,52')}</ValCurs>", "not a decimal"),
        (f"<ValCurs Date='03.02.2025'>{_valute(value='-1.5')}</ValCurs>", "not a decimal"),
        (f"<ValCurs Date='03.02.2025'>{_valute(value='0')}</ValCurs>", "positive"),
        (f"<ValCurs Date='03.02.2025'>{_valute(value='NaN')}</ValCurs>", "not a decimal"),
        (f"<ValCurs Date='03.02.2025'>{_valute(nominal='0')}</ValCurs>", "positive integer"),
        (f"<ValCurs Date='03.02.2025'>{_valute(nominal='1.5')}</ValCurs>", "positive integer"),
        (f"<ValCurs Date='03.02.2025'>{_valute(nominal='3')}</ValCurs>", "not an exact"),
        (f"<ValCurs Date='03.02.2025'>{_valute(code='US')}</ValCurs>", "ISO 4217"),
        (f"<ValCurs Date='03.02.2025'>{_valute()}{_valute()}</ValCurs>", "listed twice"),
        ("<ValCurs Date='03.02.2025'><Valute><CharCode>USD</CharCode></Valute></ValCurs>", "no <"),
        ("<ValCurs Date='03.02.2025'><Error>later</Error></ValCurs>", "unexpected element"),
        (
            "<!DOCTYPE v [<!ENTITY a 'aaaa'>]><ValCurs Date='03.02.2025'>&a;</ValCurs>",
            "DOCTYPE",
        ),
        ("<html><body>503 Service Unavailable</body></html>", "not <ValCurs>"),
        ("", "not well-formed"),
    ],
)
def test_malformed_feeds_are_refused_with_the_reason(document: str, reason: str):
    with pytest.raises(MalformedFeed, match=reason):
        parse(document.encode("utf-8"))


def test_a_huge_document_is_refused_before_parsing():
    with pytest.raises(MalformedFeed, match="larger than"):
        parse(b"<ValCurs Date='03.02.2025'>" + b" " * 1_000_001 + b"</ValCurs>")


@given(
    st.decimals(min_value=Decimal("0.0001"), max_value=Decimal("99999"), places=4),
    st.sampled_from([1, 10, 100, 1000, 10000]),
)
def test_every_rate_is_value_over_nominal_exactly(value: Decimal, nominal: int):
    document = f"<ValCurs Date='01.03.2025'>{_valute('KZT', str(nominal), str(value))}</ValCurs>"
    rate = parse(document.encode()).rates["KZT"]
    assert rate * nominal == value
