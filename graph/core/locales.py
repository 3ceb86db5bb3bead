"""The languages of labels: Russian, Tajik, Uzbek and English."""

from __future__ import annotations

from enum import Enum

import strawberry


@strawberry.enum(description="A language for labels.")
class Locale(Enum):
    RU = "ru"
    TG = "tg"
    UZ = "uz"
    EN = "en"

    @classmethod
    def of(cls, code: str | None) -> Locale:
        """A customer's locale code as a Locale; Russian when unknown."""
        try:
            return cls(code)
        except ValueError:
            return cls.RU
