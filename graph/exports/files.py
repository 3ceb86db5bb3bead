"""What the REST route, the download link and the CLI share: an export spooled to a
temporary file while its SHA-256 is taken (memory stays bounded; the audit row, which
needs the digest, is written before a byte is sent), the audit row's detail, and the
download headers."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from typing import IO

from graph.relay.ids import to_global_id
from ledger import exports
from ledger.exports import Export

SPOOL_IN_MEMORY = 4 * 1024 * 1024  # larger files go to a temporary file
READ_CHUNK = 64 * 1024


@dataclass(slots=True)
class Spooled:
    file: IO[bytes]
    written: exports.Written

    def chunks(self) -> Iterator[bytes]:
        """The file from its start, then closed (removed)."""
        try:
            self.file.seek(0)
            while chunk := self.file.read(READ_CHUNK):
                yield chunk
        finally:
            self.file.close()


async def spool(export: Export) -> Spooled:
    file = tempfile.SpooledTemporaryFile(max_size=SPOOL_IN_MEMORY)  # noqa: SIM115
    try:
        written = await exports.write(export, file.write)
    except BaseException:
        file.close()
        raise
    return Spooled(file, written)


def detail(export: Export, sha256: str) -> str:
    """The audit row's account of an export: account, format, period, options, digest."""
    h = export.head
    rows = "booked" if h.booked_only else "booked+pending"
    return (
        f"export {to_global_id('Account', h.account_id)} {export.format.value} "
        f"{h.date_from.isoformat()}..{h.date_to.isoformat()} "
        f"{rows} {h.locale} sha256={sha256}"
    )


def headers(export: Export, written: exports.Written) -> dict[str, str]:
    return {
        "Content-Type": export.info.media_type,
        "Content-Disposition": f'attachment; filename="{export.filename}"',
        "Content-Length": str(written.size),
        "Cache-Control": "no-store",
        "X-Content-SHA256": written.sha256,
    }
