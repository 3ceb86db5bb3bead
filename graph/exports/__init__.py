"""Statement exports delivered: the GraphQL `statementExport` field (a signed download
link), the download links themselves (`links`), and what REST, the download route and the
CLI share (`files`). The formats are ledger/exports'."""
