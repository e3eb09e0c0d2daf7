"""The real `clientledger` console script and `make run`, in subprocesses, as a person runs them
in a checkout: no variables set, the embedded defaults under a var directory of their own."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings

from clientledger.demo.data.agency import OWNER_EMAIL

BIN = Path(sys.executable).parent
# What a fresh shell in the checkout does not have: production settings, the test runner's.
UNSET = (
    "SECRET_KEY",
    "DATABASE_URL",
    "DEBUG",
    "SITE_URL",
    "HOST",
    "PORT",
    "REDIS_URL",
    "EMAIL_HOST",
    "CLIENTLEDGER_TESTING",
    "CLIENTLEDGER_EMBEDDED",
    "RUN_EMBEDDED_RUNNER",
    "CELERY_BROKER_URL",
)


def checkout_env(var_dir: Path) -> dict[str, str]:
    env = {name: value for name, value in os.environ.items() if name not in UNSET}
    env["CLIENTLEDGER_VAR_DIR"] = str(var_dir)
    return env


def run(args: list[str], var_dir: Path) -> str:
    done = subprocess.run(
        args,
        cwd=settings.BASE_DIR,
        env=checkout_env(var_dir),
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def clientledger(*args: str, var_dir: Path) -> str:
    return run([str(BIN / "clientledger"), *args], var_dir)


@pytest.fixture(scope="module")
def checkout(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """A checkout after `make run PORT=8111` (migrated, demo loaded; --check: not serving)."""
    var_dir = tmp_path_factory.mktemp("var")
    output = run(["make", "--no-print-directory", "run", "PORT=8111", "RUN_ARGS=--check"], var_dir)
    return var_dir, output


def test_make_run_on_another_port_writes_client_links_with_that_port(
    checkout: tuple[Path, str],
) -> None:
    var_dir, output = checkout

    assert "ClientLedger is at http://127.0.0.1:8111/" in output
    with sqlite3.connect(var_dir / "clientledger.sqlite3") as db:
        # Queued emails are rendered when delivered: their links are in what they render from.
        bodies = [body for (body,) in db.execute("SELECT context FROM notifications_emailmessage")]
    links = [body for body in bodies if "/p/" in body]
    assert links, "the demo sends estimates with portal links"
    assert all("http://127.0.0.1:8111/p/" in body for body in links)


def test_the_console_script_works_in_the_checkout_outside_make_run(
    checkout: tuple[Path, str],
) -> None:
    var_dir, _ = checkout
    secret_key = (var_dir / "secret_key").read_text()

    output = clientledger("api-token", "--email", OWNER_EMAIL, var_dir=var_dir)

    assert output.startswith("cl_") and output.count("\n") == 1
    # The same database and secret key as `make run`.
    assert (var_dir / "secret_key").read_text() == secret_key
    with sqlite3.connect(var_dir / "clientledger.sqlite3") as db:
        query = "SELECT count(*) FROM accounts_apitoken WHERE prefix = ?"
        assert db.execute(query, (output[:10],)).fetchone() == (1,)
