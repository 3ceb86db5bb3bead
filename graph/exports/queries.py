"""The root `statementExport` field: the file is made once here, to give its size and
SHA-256 and to audit it (one row: account, format, period, digest); the link remakes the
same bytes when it is downloaded (graph/server/rest/exports.py)."""

from __future__ import annotations

from datetime import date
from typing import Annotated

import strawberry

from graph.accounts.loaders import AccountByIdLoader
from graph.auth.scopes import STATEMENTS_READ
from graph.context import Info
from graph.core.locales import Locale
from graph.core.permissions import scoped
from graph.exports import links
from graph.exports.files import detail
from graph.exports.types import (
    StatementExport,
    StatementExportError,
    StatementExportErrorCode,
    StatementExportResult,
    StatementFormat,
)
from graph.relay.ids import pk_of, to_global_id
from ledger import exports
from ledger.exports import ExportFormat, ExportTooLarge
from ledger.types import utcnow

E = StatementExportErrorCode


@strawberry.type
class StatementExportQueries:
    @scoped(
        "An account's statement of a period as a file (booking dates, inclusive): a signed "
        "download link, its size and SHA-256. Its totals are `statement`'s.",
        STATEMENTS_READ,
    )
    async def statement_export(
        self,
        info: Info,
        account_id: strawberry.ID,
        from_: Annotated[date, strawberry.argument(name="from")],
        to: date,
        format: StatementFormat,
        locale: Annotated[
            Locale | None,
            strawberry.argument(description="The PDF's language; default: the customer's."),
        ] = None,
        booked_only: bool = True,
    ) -> StatementExportResult:
        context = info.context
        account_pk = pk_of(account_id, "Account")
        global_id = to_global_id("Account", account_pk)
        if from_ > to:
            return StatementExportError(code=E.BAD_PERIOD, message="`from` must not be after `to`.")
        if await context.loaders.get(AccountByIdLoader).load(account_pk) is None:
            # Missing and not consented look the same, and are audited as denied.
            context.trail.refuse(global_id)
            return StatementExportError(code=E.NOT_FOUND, message="No account with this ID.")
        assert context.keys is not None, "the API passes its key ring to the context"
        fmt, created = ExportFormat(format.value), utcnow().replace(microsecond=0)
        code = (locale or context.locale).value
        try:
            async with context.db.session() as session:
                export = await exports.open_export(
                    session, account_pk, from_, to, fmt,
                    created_at=created, locale=code, booked_only=booked_only,
                )  # fmt: skip
                assert export is not None  # the loader found it
                written = await exports.write(export, lambda _: None)
        except ExportTooLarge as exc:
            return StatementExportError(code=E.TOO_LARGE, message=str(exc))
        made = detail(export, written.sha256)
        # Two exports in one request (aliases) share its one audit row.
        trail = context.trail
        trail.detail = made if trail.detail is None else f"{trail.detail}; {made}"
        expires = created + links.LINK_TTL
        link = links.ExportLink(
            consent_id=context.principal.consent.id,
            user_id=context.principal.user_id,
            account_id=account_pk,
            format=fmt.value,
            date_from=from_.isoformat(),
            date_to=to.isoformat(),
            locale=code,
            booked_only=booked_only,
            created_at=created.isoformat(),
            expires_at=int(expires.timestamp()),
            sha256=written.sha256,
        )
        return StatementExport(
            url=context.base_url + links.DOWNLOAD_PATH + links.sign(context.keys, link),
            expires_at=expires,
            filename=export.filename,
            content_type=export.info.media_type,
            size=written.size,
            sha256=written.sha256,
            transaction_count=export.head.figures.count,
        )
