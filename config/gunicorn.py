"""Gunicorn settings for `clientledger run` (the embedded single-machine mode) and for a
deployment's `gunicorn -c config/gunicorn.py`.

One worker process per core (`WEB_CONCURRENCY`, default the usable cores) with `WEB_THREADS`
threads each (default 4): a process computes on one core at a time (Python's GIL), so threads
alone do not use a second core. SQLite serialises the writers of every process itself (WAL,
immediate transactions, a 20 s busy timeout).
"""

import os

from config.settings import WEB_CONCURRENCY, WEB_THREADS

bind = f"{os.environ.get('HOST', '127.0.0.1')}:{os.environ.get('PORT', '8000')}"
workers = WEB_CONCURRENCY
threads = WEB_THREADS
worker_class = "gthread"
# A kept-alive connection stays with the worker that accepted it, and one worker accepts most
# of a burst of new connections: 32 kept-alive clients were served 30 by one worker, 2 by the
# other, which left the second core idle. Closing each connection after its response lets
# every request go to whichever worker accepts first (a proxy in front keeps its own
# connections to browsers alive). `--keep-alive N` on the command line overrides it.
keepalive = 0
timeout = 60
accesslog = "-"
wsgi_app = "config.wsgi:application"


def post_worker_init(worker: object) -> None:
    from django.conf import settings
    from django.urls import get_resolver

    from clientledger.core.collector import startup_objects_freeze

    # The URLconf imports every view and builds the API's schemas: on a worker's first request
    # otherwise, which waited ~1.5 s of CPU on a quiet core for it (issue 14's load bench).
    get_resolver().reverse_dict  # noqa: B018
    startup_objects_freeze()

    # Every worker starts a runner thread; the one holding the runner lock sweeps.
    if settings.RUN_EMBEDDED_RUNNER:
        from clientledger.jobs.runner import start_embedded_runner

        start_embedded_runner()
