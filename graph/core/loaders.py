"""The dataloaders of one request, each made on first use."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar, cast

from aiodataloader import DataLoader

if TYPE_CHECKING:
    from graph.context import Context

LoaderT = TypeVar("LoaderT", bound=DataLoader[Any, Any])


class RequestLoaders:
    """The request's dataloaders, keyed by class: `loaders.get(AccountByIdLoader)` makes
    the loader from the request's context the first time it is asked for, and returns that
    same one (with its batch and its cache) for the rest of the request.

    They live with the request and die with it: a loader kept longer would serve one
    customer's rows to the next. A new loader needs no entry here; its constructor takes
    the context (or a protocol of it, such as `graph.core.dataloaders.Reader`).
    """

    def __init__(self, context: Context) -> None:
        self._context = context
        self._made: dict[Callable[[Context], Any], Any] = {}

    def get(self, kind: Callable[[Context], LoaderT]) -> LoaderT:
        loader = self._made.get(kind)
        if loader is None:
            loader = self._made[kind] = kind(self._context)
        return cast("LoaderT", loader)
