"""Tajik service providers Alif customers pay, with the spending category each implies.

Used to fill a transaction's category when Alif did not send a CATEGORY attribute.
Names are matched without case, spaces or punctuation ("ZET-Mobile" == "zet mobile").
Sources: shared/reference/domain-tj.md section 3.
"""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class ServiceProvider:
    name: str
    category: str
    aliases: tuple[str, ...] = ()


PROVIDERS: tuple[ServiceProvider, ...] = (
    ServiceProvider("Tcell", "mobile"),
    ServiceProvider("MegaFon", "mobile", ("MegaFon Tajikistan",)),
    ServiceProvider("Babilon-M", "mobile", ("Babilon-Mobile", "Babilon Mobile")),
    ServiceProvider("ZET-Mobile", "mobile"),
    ServiceProvider("O-Mobile", "mobile"),
    ServiceProvider("Barqi Tojik", "electricity"),
    ServiceProvider("Shabakahoi Taqsimoti Barq", "electricity"),
    ServiceProvider("Pamir Energy", "electricity"),
    ServiceProvider("Dushanbevodokanal", "water"),
    ServiceProvider("Babilon-T", "internet"),
    ServiceProvider("Tojiktelecom", "internet"),
    ServiceProvider("Nasiya", "installments", ("Alif Nasiya",)),
)


def _key(name: str) -> str:
    return re.sub(r"[\W_]", "", name.casefold())


_BY_KEY = {_key(alias): p for p in PROVIDERS for alias in (p.name, *p.aliases)}


def find_provider(name: str) -> ServiceProvider | None:
    return _BY_KEY.get(_key(name))
