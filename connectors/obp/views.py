"""Which of the user's views on an account the connector reads it through.

OBP moderates every account read by a view, and a user holds only some views on each
account: `/my/accounts` lists them per account (`views`, ViewBasicV300; `views_available`
in older shapes). `owner` sees everything; an accountant or auditor may hold only a
custom view, and asking for `owner` then answers 403 forever. (`GET .../accounts/A/views`
lists every view defined on the account, not the user's, so it cannot answer this.)
"""

from __future__ import annotations

from typing import Any

OWNER_VIEW = "owner"
# A full view JSON (ViewJsonV300/V500) states this permission; v5.1.0 view bodies list
# granted permissions in `allowed_actions` instead.
_SEES_TRANSACTIONS = "can_see_transaction_amount"


def views_listed(account: dict[str, Any]) -> list[Any] | None:
    """The account's view list as `/my/accounts` sent it, or None when it sent none."""
    for key in ("views", "views_available"):
        value = account.get(key)
        if isinstance(value, list):
            return value
    return None


def _sees_transactions(view: dict[str, Any]) -> bool:
    flag = view.get(_SEES_TRANSACTIONS)
    if isinstance(flag, bool):
        return flag
    actions = view.get("allowed_actions")
    if isinstance(actions, list):
        return _SEES_TRANSACTIONS in actions
    return True  # a basic view states no permissions: reading through it will tell


def choose_view(views: list[Any]) -> str | None:
    """`owner` when the user has it; else a private view that sees transactions, then a
    public one; None when no listed view can see transactions."""
    usable = [
        view
        for view in views
        if isinstance(view, dict) and isinstance(view.get("id"), str) and _sees_transactions(view)
    ]
    ids = [view["id"] for view in usable]
    if OWNER_VIEW in ids:
        return OWNER_VIEW
    private = [view["id"] for view in usable if view.get("is_public") is not True]
    return (private or ids or [None])[0]
