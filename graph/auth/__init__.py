"""Who is asking: OAuth 2.0 with PKCE, the consent pages and one-time codes, access
tokens and the consent behind them, development tokens."""
