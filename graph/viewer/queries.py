"""The root `viewer` field: no scope needed, it describes the token itself."""

from __future__ import annotations

import strawberry

from graph.context import Info
from graph.viewer.types import Consent, Customer, Viewer
from ledger.types import utcnow


@strawberry.type
class ViewerQueries:
    @strawberry.field(description="The customer and the consent behind the access token.")
    def viewer(self, info: Info) -> Viewer:
        principal = info.context.principal
        return Viewer(customer=Customer.of(principal), consent=Consent.of(principal, utcnow()))
