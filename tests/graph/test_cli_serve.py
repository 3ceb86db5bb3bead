"""`alif-graph serve`'s uvicorn options: workers per environment, uvloop and httptools named,
`--workers` over the default (graph.cli.api). uvicorn.run is replaced: no server starts."""

from __future__ import annotations

import importlib.util
import sys
from typing import Any

import pytest
import typer

from graph.cli.api import serve
from graph.cli.errors import CliError
from graph.settings import get_settings

pytestmark = pytest.mark.usefixtures("env", "engine")


@pytest.fixture
def started(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    calls: list[dict[str, Any]] = []
    monkeypatch.setattr("graph.cli.api.uvicorn.run", lambda *a, **k: calls.append(k))
    return calls


def configure(monkeypatch: pytest.MonkeyPatch, *, env: str, redis: bool, cores: int | None) -> None:
    monkeypatch.setenv("ALIF_GRAPH_ENV", env)
    if redis:
        monkeypatch.setenv("ALIF_GRAPH_REDIS_URL", "redis://127.0.0.1:6379/0")
    else:
        monkeypatch.delenv("ALIF_GRAPH_REDIS_URL", raising=False)
    monkeypatch.setattr("graph.cli.api.usable_cores", lambda: cores or 1)
    # The test database's role may alter the audit trail, which production refuses
    # (tests/ledger/test_roles.py); that check is not what these tests are about.
    monkeypatch.setattr("graph.cli.api.refuse_unsafe_role", lambda settings: None)
    get_settings.cache_clear()


def run_serve(workers: int | None = None) -> None:
    serve(host="127.0.0.1", port=8000, workers=workers)


@pytest.mark.parametrize("cores", [1, 2, 3, 8])
def test_production_runs_one_worker_per_core_with_redis(
    monkeypatch: pytest.MonkeyPatch, started: list[dict[str, Any]], cores: int
):
    configure(monkeypatch, env="production", redis=True, cores=cores)

    run_serve()

    assert started[-1]["workers"] == cores
    assert (started[-1]["loop"], started[-1]["http"]) == ("uvloop", "httptools")


@pytest.mark.parametrize("cores", [1, 2, 8, None])
@pytest.mark.parametrize("redis", [True, False])
def test_development_runs_one_worker(
    monkeypatch: pytest.MonkeyPatch, started: list[dict[str, Any]], cores: int | None, redis: bool
):
    configure(monkeypatch, env="development", redis=redis, cores=cores)

    run_serve()

    assert started[-1]["workers"] == 1
    assert (started[-1]["loop"], started[-1]["http"]) == ("uvloop", "httptools")


@pytest.mark.parametrize("cores", [2, 8])
def test_production_without_redis_runs_one_worker_and_says_why(
    monkeypatch: pytest.MonkeyPatch,
    started: list[dict[str, Any]],
    capsys: pytest.CaptureFixture[str],
    cores: int,
):
    configure(monkeypatch, env="production", redis=False, cores=cores)

    run_serve()

    assert started[-1]["workers"] == 1
    err = capsys.readouterr().err
    assert f"serving with 1 worker, not {cores}" in err
    assert "ALIF_GRAPH_REDIS_URL" in err


@pytest.mark.parametrize("cores", [None, 1])
def test_production_without_redis_on_one_core_is_silent(
    monkeypatch: pytest.MonkeyPatch,
    started: list[dict[str, Any]],
    capsys: pytest.CaptureFixture[str],
    cores: int | None,
):
    configure(monkeypatch, env="production", redis=False, cores=cores)

    run_serve()

    assert started[-1]["workers"] == 1
    assert "worker" not in capsys.readouterr().err


@pytest.mark.parametrize(
    ("environment", "cores", "workers"),
    [("production", 8, 1), ("production", 2, 5), ("production", 1, 3), ("development", 4, 2)],
)
def test_workers_option_overrides_the_default(
    monkeypatch: pytest.MonkeyPatch,
    started: list[dict[str, Any]],
    environment: str,
    cores: int,
    workers: int,
):
    configure(monkeypatch, env=environment, redis=True, cores=cores)

    run_serve(workers)

    assert started[-1]["workers"] == workers


@pytest.mark.parametrize("environment", ["production", "development"])
@pytest.mark.parametrize("workers", [2, 4])
def test_workers_above_one_without_redis_are_still_refused(
    monkeypatch: pytest.MonkeyPatch, started: list[dict[str, Any]], environment: str, workers: int
):
    configure(monkeypatch, env=environment, redis=False, cores=8)

    with pytest.raises(CliError, match=f"--workers {workers} needs ALIF_GRAPH_REDIS_URL"):
        run_serve(workers)
    assert started == []


@pytest.mark.parametrize(
    ("missing", "expected"),
    [
        ({"uvloop"}, ("asyncio", "httptools")),
        ({"httptools"}, ("uvloop", "h11")),
        ({"uvloop", "httptools"}, ("asyncio", "h11")),
    ],
)
def test_a_missing_uvloop_or_httptools_falls_back(
    monkeypatch: pytest.MonkeyPatch,
    started: list[dict[str, Any]],
    missing: set[str],
    expected: tuple[str, str],
):
    configure(monkeypatch, env="production", redis=True, cores=2)
    real = importlib.util.find_spec
    monkeypatch.setattr(
        "graph.cli.api.importlib.util.find_spec",
        lambda name, *a: None if name in missing else real(name, *a),
    )

    run_serve()

    assert (started[-1]["loop"], started[-1]["http"]) == expected
    assert started[-1]["workers"] == 2


def test_a_refusal_before_serving_is_the_only_line(
    monkeypatch: pytest.MonkeyPatch,
    started: list[dict[str, Any]],
    capsys: pytest.CaptureFixture[str],
):
    # tests/ledger/test_roles.py refuses the owner's role for real (PostgreSQL only).
    configure(monkeypatch, env="production", redis=False, cores=4)

    def refuse(settings: object) -> None:
        print("error: refused", file=sys.stderr)
        raise typer.Exit(1)

    monkeypatch.setattr("graph.cli.api.refuse_unsafe_role", refuse)

    with pytest.raises(typer.Exit):
        run_serve()
    assert capsys.readouterr().err.splitlines() == ["error: refused"]
    assert started == []


def test_each_worker_runs_the_served_app(monkeypatch: pytest.MonkeyPatch):
    configure(monkeypatch, env="development", redis=False, cores=2)
    targets: list[Any] = []
    monkeypatch.setattr(
        "graph.cli.api.uvicorn.run", lambda target, **k: targets.append((target, k["factory"]))
    )

    run_serve()

    assert targets == [("graph.server.runtime:served_app", True)]
