"""`clientledger <command>`: the console script wrapping manage.py."""

from __future__ import annotations

import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    # In a checkout (no SECRET_KEY set) every command runs with `make run`'s embedded
    # defaults: the ./var database, mail folder and secret key. A deployment sets SECRET_KEY.
    if not os.environ.get("SECRET_KEY"):
        os.environ.setdefault("CLIENTLEDGER_EMBEDDED", "true")
    from django.core.management import execute_from_command_line

    execute_from_command_line(["clientledger", *sys.argv[1:]])
