"""Gunicorn settings for `clientledger run` (the embedded single-machine mode)."""

import os

bind = f"{os.environ.get('HOST', '127.0.0.1')}:{os.environ.get('PORT', '8000')}"
# One process keeps SQLite writers serialised; threads serve concurrent requests.
workers = int(os.environ.get("WEB_CONCURRENCY", "1"))
threads = int(os.environ.get("WEB_THREADS", "4"))
worker_class = "gthread"
timeout = 60
accesslog = "-"
wsgi_app = "config.wsgi:application"


def post_worker_init(worker: object) -> None:
    from django.conf import settings

    if settings.RUN_EMBEDDED_RUNNER:
        from clientledger.jobs.runner import start_embedded_runner

        start_embedded_runner()
