"""`make bench-load`: the app served as `clientledger run` serves it (gunicorn with
config/gunicorn.py, the embedded mode's settings, the background sweeps off so that only
requests load the machine) on the scale database, then BENCH_LOAD_CONNECTIONS (32) keep-alive
connections for BENCH_LOAD_SECONDS (60) at each target in turn: a static file (the reference
of what the server and this generator can do), a client's portal page from one address (an
office behind one NAT), the same page from one address per connection (X-Forwarded-For, the
server set as behind a proxy: the page's throughput when no rate limit applies) and the API
invoice list (a bearer token).

The generator is plain asyncio HTTP/1.1 (no dependency); on the same 2 cores as the server it
takes its share of the CPU, which the static file's figure shows.

Then the same load at the portal page and the API list served by the code issue 14 measured
(`BENCH_LOAD_BASELINE`, the commit before its first; `none` skips it), from its own tree and
virtualenv under var/, with its own server settings, on the same database: each target's
answered pages/s against that baseline's, measured minutes apart on the same machine, is how
the issue's "5x today's throughput" is judged whatever the shared machine's speed that day
(it served the static file 1,600-2,600 times a second on different days). The portal counts
pages (2xx): the baseline's answered 429 to one address."""

from __future__ import annotations

import asyncio
import os
import socket
import statistics
import subprocess
import tempfile
import time
import urllib.request
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from bench.scale_database import BENCH_SECRET_KEY, ScaleDatabase
from bench.timing import print_reference

CONNECTIONS = int(os.environ.get("BENCH_LOAD_CONNECTIONS", "32"))
SECONDS = float(os.environ.get("BENCH_LOAD_SECONDS", "60"))
HOST = "127.0.0.1"
# fe60cc2: main when issue 14 was filed (the API list served 20.7 pages/s on its machine).
BASELINE = os.environ.get("BENCH_LOAD_BASELINE", "fe60cc2")
THROUGHPUT_FACTOR = 5.0
REPOSITORY = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Target:
    name: str
    path: str
    headers: dict[str, str] = field(default_factory=dict)
    # Each connection from its own address (X-Forwarded-For), else all from 127.0.0.1.
    spread: bool = False

    # Also driven at the baseline's server.
    compared: bool = False


@dataclass
class Tally:
    statuses: Counter[int] = field(default_factory=Counter)
    latencies_ms: list[float] = field(default_factory=list)
    failures: Counter[str] = field(default_factory=Counter)
    seconds: float = 0.0

    @property
    def ok(self) -> int:
        """The answers that were pages (2xx)."""
        return sum(count for status, count in self.statuses.items() if 200 <= status < 300)

    @property
    def pages_per_second(self) -> float:
        return self.ok / self.seconds if self.seconds else 0.0


def load_main(database: ScaleDatabase) -> int:
    targets = load_targets(database)
    print_reference("before the load")
    tallies, failed = _served_load(_server_command(REPOSITORY), database, targets)
    if BASELINE != "none":
        compared = [target for target in targets if target.compared]
        print(f"\nthe baseline, {BASELINE}: the code issue 14 measured, on the same database")
        baseline, _ = _served_load(_server_command(_baseline_tree(BASELINE)), database, compared)
        failed += _compare(tallies, baseline)
    print_reference("after the load")
    return 1 if failed else 0


def _served_load(
    command: tuple[str, Path], database: ScaleDatabase, targets: list[Target]
) -> tuple[dict[str, Tally], int]:
    """Each target driven in turn at a server of `command` (the program and its tree)."""
    port = _free_port()
    server = _serve(command, database, port)
    try:
        _wait_until_up(port, server)
        print(f"served by gunicorn on port {port}; {CONNECTIONS} connections, {SECONDS:.0f} s each")
        print(
            f"{'target':<20} {'req/s':>8} {'requests':>9} {'2xx':>8} {'429':>6} {'errors':>7}"
            f" {'p50 ms':>8} {'p95 ms':>8}"
        )
        tallies, failed = {}, 0
        for target in targets:
            tallies[target.name] = asyncio.run(drive(port, target))
            failed += _report(target.name, tallies[target.name])
        return tallies, failed
    finally:
        server.terminate()
        server.wait(timeout=30)


def _compare(tallies: dict[str, Tally], baseline: dict[str, Tally]) -> int:
    print(f"\n{'pages/s (2xx)':<20} {'now':>8} {'baseline':>9} {'ratio':>7}  verdict")
    failed = 0
    for name, before in baseline.items():
        now, then = tallies[name].pages_per_second, before.pages_per_second
        ratio = now / then if then else float("inf")
        passed = ratio >= THROUGHPUT_FACTOR
        failed += not passed
        verdict = "PASS" if passed else "UNDER"
        print(
            f"{name:<20} {now:>8.1f} {then:>9.1f} {ratio:>6.1f}x"
            f"  {verdict} ({THROUGHPUT_FACTOR:g}x)"
        )
    return failed


def load_targets(database: ScaleDatabase) -> list[Target]:
    from bench.loading import invoice_portal_token, loaded_open_invoices
    from clientledger.accounts.services import api_token_create

    invoice = loaded_open_invoices(database.agency).order_by("-id")[0]
    _token, key = api_token_create(user=database.owner, name="load bench")
    portal = f"/p/{invoice_portal_token(invoice.pk, database.agency.pk)}/"
    return [
        Target("static file", "/favicon.ico"),
        Target("portal, 1 address", portal, compared=True),
        Target(f"portal, {CONNECTIONS} addresses", portal, spread=True),
        Target(
            "API invoice list",
            "/api/v1/invoices",
            {"Authorization": f"Bearer {key}"},
            compared=True,
        ),
    ]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return int(probe.getsockname()[1])


def _server_command(tree: Path) -> tuple[str, Path]:
    return str(tree / ".venv" / "bin" / "clientledger"), tree


def _baseline_tree(revision: str) -> Path:
    """The revision's files (git archive) under var/ with their own virtualenv (`make`),
    kept for the next run."""
    tree = REPOSITORY / "var" / f"bench-baseline-{revision}"
    if not (tree / ".venv" / "bin" / "clientledger").exists():
        tree.mkdir(parents=True, exist_ok=True)
        archive = subprocess.run(
            ["git", "-C", str(REPOSITORY), "archive", revision],
            check=True,
            capture_output=True,
        )
        subprocess.run(["tar", "-x", "-C", str(tree)], input=archive.stdout, check=True)
        print(f"installing {revision} in {tree}…", flush=True)
        subprocess.run(["make", "-C", str(tree), "--quiet", ".venv/bin/clientledger"], check=True)
    return tree


def _serve(
    command: tuple[str, Path], database: ScaleDatabase, port: int
) -> subprocess.Popen[bytes]:
    """`clientledger run --no-demo` (migrate, collectstatic, exec gunicorn), as `make run`."""
    program, tree = command
    environment = {
        key: value
        for key, value in os.environ.items()
        if key not in ("CLIENTLEDGER_TESTING", "DJANGO_SETTINGS_MODULE", "VIRTUAL_ENV")
    }
    environment.update(
        CLIENTLEDGER_EMBEDDED="true",
        CLIENTLEDGER_VAR_DIR=tempfile.mkdtemp(prefix="clientledger-load-"),
        DATABASE_URL=database.url,
        SECRET_KEY=BENCH_SECRET_KEY,
        RUN_EMBEDDED_RUNNER="false",
        BEHIND_PROXY="true",
        HOST=HOST,
        PORT=str(port),
    )
    log = open(Path(environment["CLIENTLEDGER_VAR_DIR"]) / "server.log", "wb")  # noqa: SIM115
    return subprocess.Popen(
        [program, "run", "--no-demo"], cwd=tree, env=environment, stdout=log, stderr=log
    )


def _wait_until_up(port: int, server: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"the server stopped (exit {server.returncode})")
        try:
            with urllib.request.urlopen(f"http://{HOST}:{port}/healthz", timeout=2):
                return
        except OSError:
            time.sleep(0.5)
    raise RuntimeError("the server did not answer /healthz within 120 s")


async def drive(port: int, target: Target) -> Tally:
    tally = Tally()
    started = time.monotonic()
    stop_at = started + SECONDS
    await asyncio.gather(
        *(_connection(port, _request(port, target, n), stop_at, tally) for n in range(CONNECTIONS))
    )
    tally.seconds = time.monotonic() - started
    return tally


def _request(port: int, target: Target, connection: int) -> bytes:
    headers = dict(target.headers)
    if target.spread:
        headers["X-Forwarded-For"] = f"10.9.{connection // 256}.{connection % 256}"
    lines = [f"GET {target.path} HTTP/1.1", f"Host: {HOST}:{port}"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


async def _connection(port: int, request: bytes, stop_at: float, tally: Tally) -> None:
    """One client connection: requests back to back, reconnecting when the server closes."""
    reader: asyncio.StreamReader | None = None
    writer: asyncio.StreamWriter | None = None
    while time.monotonic() < stop_at:
        started = time.perf_counter()
        try:
            if writer is None:
                reader, writer = await asyncio.open_connection(HOST, port)
            assert reader is not None
            writer.write(request)
            status, keep_alive = await _response(reader)
        except (OSError, asyncio.IncompleteReadError, ValueError) as error:
            tally.failures[type(error).__name__] += 1
            _close(writer)
            writer = None
            await asyncio.sleep(0.05)
            continue
        tally.statuses[status] += 1
        tally.latencies_ms.append((time.perf_counter() - started) * 1000)
        if not keep_alive:
            _close(writer)
            writer = None
    _close(writer)


def _close(writer: asyncio.StreamWriter | None) -> None:
    if writer is not None:
        writer.close()


async def _response(reader: asyncio.StreamReader) -> tuple[int, bool]:
    """Read one response; its status and whether the connection stays open."""
    status = int((await reader.readuntil(b"\r\n")).split()[1])
    headers: dict[str, str] = {}
    while (line := await reader.readuntil(b"\r\n")) != b"\r\n":
        name, _, value = line.decode("latin-1").partition(":")
        headers[name.strip().lower()] = value.strip().lower()
    if headers.get("transfer-encoding") == "chunked":
        while size := int((await reader.readuntil(b"\r\n")).split(b";")[0], 16):
            await reader.readexactly(size + 2)
        await reader.readuntil(b"\r\n")
    else:
        await reader.readexactly(int(headers.get("content-length", "0")))
    return status, headers.get("connection") != "close"


def _report(name: str, tally: Tally) -> int:
    answered = sum(tally.statuses.values())
    ok = tally.ok
    limited = tally.statuses[429]
    errors = answered - ok - limited + sum(tally.failures.values())
    latencies = tally.latencies_ms or [0.0]
    p95 = statistics.quantiles(latencies, n=20)[-1] if len(latencies) > 1 else latencies[0]
    print(
        f"{name:<20} {answered / tally.seconds:>8.1f} {answered:>9,} {ok:>8,} {limited:>6,}"
        f" {errors:>7,} {statistics.median(latencies):>8.1f} {p95:>8.1f}"
    )
    if tally.failures or errors:
        print(f"  failures: {dict(tally.failures)}, statuses: {dict(tally.statuses)}")
    return 1 if errors or limited else 0
