"""Who is asking: the OAuth 2.0 server with PKCE (oauth/), the consent pages (consent/), and
the access token check with the consent behind it (principal.py). HTTP and flows only: what
is stored, and the rules about it, are the ledger's (ledger/consents.py, grants.py, ...)."""
