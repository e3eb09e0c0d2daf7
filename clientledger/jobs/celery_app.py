"""The Celery application, configured from Django settings (the `CELERY_*` names).

It lives in jobs, next to the sweeps its tasks run (`jobs.tasks`), rather than in `config/`:
the tasks and beat's schedule are derived from `jobs.sweeps.SWEEPS`, so the app, its tasks
and its schedule have one home. `clientledger worker` and `clientledger beat` start it;
`celery -A clientledger.jobs.celery_app worker|beat` works too.
"""

from __future__ import annotations

import os

from celery import Celery

# Celery's Django fixup (django.setup() before the task modules are imported) needs this
# before the app is created, as manage.py sets it.
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("clientledger")
app.config_from_object("django.conf:settings", namespace="CELERY")
