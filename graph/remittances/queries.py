"""The root `remittanceSummary` field."""

from __future__ import annotations

from datetime import date
from typing import Annotated

import strawberry

from graph.auth.scopes import TRANSFERS_READ
from graph.context import Info
from graph.core.inputs import check_list, check_period, within
from graph.core.permissions import scoped
from graph.relay.ids import pks_of
from graph.relay.queries import refuse_unreadable
from graph.remittances.types import (
    SDG_TARGET_PERCENT,
    RemittanceGrouping,
    RemittanceGroupSummary,
    RemittanceSummary,
)
from ledger.queries import remittances


@strawberry.type
class RemittanceQueries:
    @scoped(
        "Cross-border transfers created in a period (Dushanbe days), grouped, with their "
        "true cost: fee plus exchange-rate margin against NBT's official rate of the day, as "
        "a share of the amount sent (World Bank RPW method).",
        TRANSFERS_READ,
    )
    async def remittance_summary(
        self,
        info: Info,
        from_: Annotated[date, strawberry.argument(name="from")],
        to: date,
        group_by: RemittanceGrouping = RemittanceGrouping.CORRIDOR,
        account_ids: list[strawberry.ID] | None = None,
    ) -> RemittanceSummary | None:
        check_period(from_, to)
        requested = pks_of(check_list("accountIds", account_ids), "Account")
        readable = within(await info.context.account_ids(), requested)
        await refuse_unreadable(info, {"Account": account_ids})
        async with info.context.db.session() as session:
            groups = await remittances.remittance_summary(
                session, readable, from_, to, group_by=group_by.value
            )
        return RemittanceSummary(
            from_=from_,
            to=to,
            group_by=group_by,
            groups=[RemittanceGroupSummary.of(g) for g in groups],
            total=RemittanceGroupSummary.of(remittances.overall(groups)),
            sdg_target_percent=SDG_TARGET_PERCENT,
        )
