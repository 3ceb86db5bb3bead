"""HTTP benchmark: the API's 100-row `transactions` page over HTTP, next to a raw endpoint.

Two servers on the loopback, each in its own process under uvicorn with the same loop and
HTTP parser as `alif-graph serve` (graph.cli.api.event_loop_options):

- the API: `alif-graph serve` itself (development, so 1 worker), asked with a real token
  from `alif-graph token`; `--api-workers N` serves it with N uvicorn workers instead, as
  `serve --workers N` would (same loop, parser and logging, access log included; `serve`
  itself asks for Redis first, which the benchmark does not need);
- the raw endpoint: a bare Starlette route, plain driver SQL (aiosqlite, the keyset SQL of
  bench/api.py's floor) and orjson, answering the same POST with byte-identical JSON
  (checked before anything is timed), in 1 process.

wrk (Debian's `wrk`: `apt-get install -y wrk`), a load generator outside Python, then
sends the same POST at fixed concurrency and duration, alternating raw and API several
times in one run. Results (req/s, p99, the ratios, the load average before each run) go to
bench/results/http.json, one entry per API worker count (and `--tag`).

    .venv/bin/python -m bench.http                  # N = 100,000, c=8, 5 x 10 s each
    .venv/bin/python -m bench.http --rounds 3 --duration 15 --api-workers 2

SQLite only: the raw endpoint's plain driver is aiosqlite.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import os
import re
import secrets
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import orjson
from sqlalchemy import create_engine as sync_engine

from bench.api import QUERY, RESULTS, build_ledger, floor_json, floor_sql
from ledger.db import create_engine
from ledger.migrate import stamp_head

PHONE = "+992900000001"  # bench.api's customer
PAGE = 100
# bench/api.py's floor SQL needs the account ids in the raw server's process.
RAW_ACCOUNTS_ENV = "BENCH_HTTP_ACCOUNTS"
RAW_DB_ENV = "BENCH_HTTP_DB"
# The API's `extensions` (its query cost) for this document and page size: the raw endpoint
# writes it as a constant, doing none of the cost analysis.
RAW_EXTENSIONS_ENV = "BENCH_HTTP_EXTENSIONS"


# --- the raw endpoint (imported by its own uvicorn process) --------------------------------


def raw_app() -> Any:
    """Starlette, one POST route: the body's `first`/`after` variables, the floor's SQL
    through aiosqlite (one connection, opened at start-up), orjson."""
    import aiosqlite
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import Response
    from starlette.routing import Route

    from graph.server.runtime import tune_collector

    accounts = [int(a) for a in os.environ[RAW_ACCOUNTS_ENV].split(",")]
    extensions = orjson.loads(os.environ[RAW_EXTENSIONS_ENV])
    first_sql, after_sql = floor_sql(accounts)
    state: dict[str, aiosqlite.Connection] = {}

    async def page(request: Request) -> Response:
        variables = orjson.loads(await request.body())["variables"]
        size, after = variables["first"], variables.get("after")
        assert size == PAGE, "the cost extension is the one of a 100-row page"
        params: dict[str, Any] = {"limit": size + 1}
        sql = first_sql
        if after is not None:
            _, day, row_id = base64.urlsafe_b64decode(after).decode().split("|")
            params |= {"day": day, "id": int(row_id)}
            sql = after_sql
        async with state["db"].execute(sql, params) as cursor:
            rows = list(await cursor.fetchall())
        return Response(floor_json(rows, size, extensions), media_type="application/json")

    @asynccontextmanager
    async def lifespan(app: Any) -> AsyncIterator[None]:
        state["db"] = await aiosqlite.connect(os.environ[RAW_DB_ENV])
        yield
        await state["db"].close()

    app = Starlette(routes=[Route("/graphql", page, methods=["POST"])], lifespan=lifespan)
    # The collector tuned as in each worker of `serve` (graph.server.runtime), so the two
    # processes differ in what they run, not in how Python collects.
    tune_collector()
    return app


# --- servers -------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def server(command: list[str], env: dict[str, str], port: int, log: Path) -> Any:
    """A server process until the block ends; waits for its port to answer."""
    with log.open("wb") as out:
        process = subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT)
        try:
            deadline = time.monotonic() + 60
            while True:
                if process.poll() is not None:
                    raise SystemExit(f"{command[:4]} exited: see {log}")
                try:
                    socket.create_connection(("127.0.0.1", port), timeout=1).close()
                    break
                except OSError:
                    if time.monotonic() > deadline:
                        message = f"{command[:4]} did not listen in 60 s: see {log}"
                        raise SystemExit(message) from None
                    time.sleep(0.2)
            yield process
        finally:
            process.terminate()
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


# --- wrk -----------------------------------------------------------------------------------


def wrk_script(path: Path, body: bytes, token: str | None) -> None:
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    lines = ['wrk.method = "POST"', f"wrk.body = {json.dumps(body.decode())}"]
    lines += [f"wrk.headers[{json.dumps(k)}] = {json.dumps(v)}" for k, v in headers.items()]
    path.write_text("\n".join(lines) + "\n")


_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


def _ms(value: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s)", value).groups()  # type: ignore[union-attr]
    return float(number) * _UNITS[unit]


def wrk(url: str, script: Path, connections: int, duration: int, threads: int) -> dict[str, Any]:
    load = os.getloadavg()
    command = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{duration}s", "--latency"]
    out = subprocess.run(
        [*command, "-s", str(script), url], capture_output=True, text=True, check=True
    ).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    p50 = _ms(re.search(r"\s50%\s+(\S+)", out).group(1))  # type: ignore[union-attr]
    p99 = _ms(re.search(r"\s99%\s+(\S+)", out).group(1))  # type: ignore[union-attr]
    requests = int(re.search(r"(\d+) requests in", out).group(1))  # type: ignore[union-attr]
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    socket_errors = re.search(r"Socket errors: (.*)", out)
    if errors or socket_errors:  # a 429 or a refused connection would time the wrong thing
        raise SystemExit(f"{url}: not every request answered 200:\n{out}")
    return {
        "req_per_s": round(rps, 1),
        "p50_ms": round(p50, 2),
        "p99_ms": round(p99, 2),
        "requests": requests,
        "loadavg_before": [round(x, 2) for x in load],
    }


# --- the run -------------------------------------------------------------------------------


def prepare(db: Path, n: int) -> list[int]:
    async def build() -> list[int]:
        engine = create_engine(f"sqlite+aiosqlite:///{db}")
        _, accounts = await build_ledger(engine, n)
        await engine.dispose()
        return accounts

    accounts = asyncio.run(build())
    # `serve` asks the schema (built from the models) to be at the latest migration.
    with sync_engine(f"sqlite:///{db}").begin() as connection:
        stamp_head(connection)
    return accounts


def run(args: argparse.Namespace) -> dict[str, Any]:
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed: apt-get install -y wrk")
    RESULTS.mkdir(exist_ok=True)
    db = RESULTS / f"http-{args.n}.db"
    accounts = prepare(db, args.n)
    env = dict(os.environ)
    env |= {
        "ALIF_GRAPH_ENV": "development",
        "ALIF_GRAPH_DATABASE_URL": f"sqlite+aiosqlite:///{db}",
        "ALIF_GRAPH_SECRET_KEY": secrets.token_hex(32),
        # The per-consent and per-client budgets would throttle a load test (they are
        # there to); lifted so every request does the full work, not a 429.
        "ALIF_GRAPH_RATE_PER_CONSENT_CAPACITY": str(10**12),
        "ALIF_GRAPH_RATE_PER_CONSENT_PER_SECOND": str(10**12),
        "ALIF_GRAPH_RATE_PER_CLIENT_CAPACITY": str(10**12),
        "ALIF_GRAPH_RATE_PER_CLIENT_PER_SECOND": str(10**12),
        "ALIF_GRAPH_LOG_LEVEL": "warning",
        RAW_DB_ENV: str(db),
        RAW_ACCOUNTS_ENV: ",".join(map(str, accounts)),
    }
    bin_dir = Path(sys.executable).parent
    token = subprocess.run(
        [str(bin_dir / "alif-graph"), "token", "--phone", PHONE, "--ttl", "86400"],
        env=env, capture_output=True, text=True, check=True,
    ).stdout.strip()  # fmt: skip
    body = orjson.dumps({"query": QUERY, "variables": {"first": PAGE, "after": None}})
    api_port, raw_port = _free_port(), _free_port()
    from graph.cli.api import event_loop_options
    from graph.server.logs import log_config

    loop, http = event_loop_options()
    logs = Path(tempfile.mkdtemp(prefix="bench-http-"))
    if args.api_workers:
        # What `serve --workers N` runs (it would ask for Redis first), its access log and
        # logging configuration included.
        log_json = logs / "log-config.json"
        log_json.write_text(json.dumps(log_config()))
        api_command = [
            sys.executable, "-m", "uvicorn", "--factory", "graph.server.runtime:served_app",
            "--port", str(api_port), "--workers", str(args.api_workers), "--loop", loop,
            "--http", http, "--no-proxy-headers", "--log-config", str(log_json),
        ]  # fmt: skip
    else:
        api_command = [str(bin_dir / "alif-graph"), "serve", "--port", str(api_port)]
    raw_command = [
        sys.executable, "-m", "uvicorn", "--factory", "bench.http:raw_app", "--port",
        str(raw_port), "--loop", loop, "--http", http, "--no-access-log",
    ]  # fmt: skip
    urls = {
        "api": f"http://127.0.0.1:{api_port}/graphql",
        "raw": f"http://127.0.0.1:{raw_port}/graphql",
    }
    with server(api_command, env, api_port, logs / "api.log"):
        env[RAW_EXTENSIONS_ENV] = orjson.dumps(api_extensions(urls["api"], body, token)).decode()
        with server(raw_command, env, raw_port, logs / "raw.log"):
            rounds = alternate(args, urls, logs, body, token)
    shutil.rmtree(logs, ignore_errors=True)
    ratios = [r["rps_ratio_api_over_raw"] for r in rounds]
    return {
        "n": args.n,
        "database": "sqlite",
        "page_rows": PAGE,
        "connections": args.connections,
        "wrk_threads": args.threads,
        "duration_s": args.duration,
        "rounds": rounds,
        "api": f"uvicorn --workers {args.api_workers}"
        if args.api_workers
        else "alif-graph serve (development: 1 worker)",
        "raw": "Starlette + aiosqlite + orjson, 1 process",
        "loop": loop,
        "http": http,
        "cores": os.cpu_count(),
        "rps_ratio_api_over_raw": {
            "median": round(statistics.median(ratios), 3),
            "min": min(ratios),
            "max": max(ratios),
        },
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }


def api_extensions(url: str, body: bytes, token: str) -> Any:
    response = httpx.post(
        url, content=body, timeout=30,
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )  # fmt: skip
    assert response.status_code == 200, response.text[:300]
    return orjson.loads(response.content).get("extensions")


def alternate(
    args: argparse.Namespace, urls: dict[str, str], logs: Path, body: bytes, token: str
) -> list[dict[str, Any]]:
    """Raw and API in turn (which goes first alternates), after an untimed warm-up."""
    scripts = {"api": logs / "api.lua", "raw": logs / "raw.lua"}
    wrk_script(scripts["api"], body, token)
    wrk_script(scripts["raw"], body, None)
    check_identical(urls, body, token)
    for name in ("raw", "api"):  # warm up both, not timed
        wrk(urls[name], scripts[name], args.connections, 2, args.threads)
    rounds = []
    for i in range(args.rounds):
        order = ("raw", "api") if i % 2 == 0 else ("api", "raw")
        measured = {
            name: wrk(urls[name], scripts[name], args.connections, args.duration, args.threads)
            for name in order
        }
        measured["rps_ratio_api_over_raw"] = round(
            measured["api"]["req_per_s"] / measured["raw"]["req_per_s"], 3
        )
        measured["p99_ratio_api_over_raw"] = round(
            measured["api"]["p99_ms"] / measured["raw"]["p99_ms"], 2
        )
        raw, api = measured["raw"], measured["api"]
        print(
            f"round {i + 1}: raw {raw['req_per_s']:.0f} req/s p99 {raw['p99_ms']:.1f} ms | "
            f"api {api['req_per_s']:.0f} req/s p99 {api['p99_ms']:.1f} ms | api/raw "
            f"{measured['rps_ratio_api_over_raw']:.3f} (load {api['loadavg_before']})"
        )
        rounds.append(measured)
    return rounds


def check_identical(urls: dict[str, str], body: bytes, token: str) -> None:
    """The raw endpoint answers the API's bytes exactly, for the first page and the next."""
    with httpx.Client(timeout=30) as client:
        after = None
        for _ in range(2):
            payload = orjson.dumps({"query": QUERY, "variables": {"first": PAGE, "after": after}})
            api = client.post(
                urls["api"], content=payload,
                headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
            )  # fmt: skip
            raw = client.post(urls["raw"], content=payload)
            assert api.status_code == 200, api.text[:300]
            if api.content != raw.content:
                at = next(
                    (
                        i
                        for i, (a, r) in enumerate(zip(api.content, raw.content, strict=False))
                        if a != r
                    ),
                    min(len(api.content), len(raw.content)),
                )
                raise SystemExit(
                    f"the raw endpoint's JSON differs from the API's at byte {at}:\n"
                    f"api {api.content[at - 80 : at + 120]!r}\n"
                    f"raw {raw.content[at - 80 : at + 120]!r}"
                )
            after = orjson.loads(api.content)["data"]["transactions"]["pageInfo"]["endCursor"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=100_000, help="transactions in the ledger")
    parser.add_argument("--rounds", type=int, default=5, help="raw/API alternations")
    parser.add_argument("--duration", type=int, default=10, help="seconds per wrk run")
    parser.add_argument("--connections", type=int, default=8, help="wrk's concurrency")
    parser.add_argument("--threads", type=int, default=2, help="wrk's threads")
    parser.add_argument(
        "--api-workers", type=int, default=0,
        help="serve the API with N uvicorn workers (default: `alif-graph serve`, 1 worker)",
    )  # fmt: skip
    parser.add_argument("--tag", default="", help="kept beside earlier runs under this suffix")
    args = parser.parse_args()
    result = run(args)
    ratio = result["rps_ratio_api_over_raw"]
    print(f"API/raw req/s: median {ratio['median']:.3f} (min {ratio['min']}, max {ratio['max']})")
    path = RESULTS / "http.json"
    recorded = json.loads(path.read_text()) if path.exists() else {}
    key = f"api_workers_{args.api_workers or 1}" + (f"_{args.tag}" if args.tag else "")
    recorded[key] = result
    path.write_text(json.dumps(recorded, indent=2, sort_keys=True) + "\n")


if __name__ == "__main__":
    main()
