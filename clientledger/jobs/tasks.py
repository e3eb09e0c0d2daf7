"""The Celery tasks: thin wrappers that call the sweeps of `jobs.sweeps.SWEEPS`.

Beat sends `clientledger.sweep` for every sweep each `RUNNER_INTERVAL_SECONDS`. A plain sweep
runs in that task; a `ChunkedSweep` only reads its due ids there and sends one
`clientledger.sweep_chunk` task per chunk, which any worker runs.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings

from clientledger.core import clock
from clientledger.jobs.celery_app import app
from clientledger.jobs.sweeps import SWEEPS, ChunkedSweep


def sweeps_beat_schedule(interval_seconds: int) -> dict[str, dict[str, Any]]:
    """Every sweep each `interval_seconds`. A trigger still waiting when the next is due is
    dropped (it expires): sweeps catch up with everything due whenever they run."""
    return {
        f"sweep {name}": {
            "task": "clientledger.sweep",
            "schedule": float(interval_seconds),
            "args": (name,),
            "options": {"expires": float(interval_seconds)},
        }
        for name in SWEEPS
    }


app.conf.beat_schedule = sweeps_beat_schedule(settings.RUNNER_INTERVAL_SECONDS)


@app.task(name="clientledger.sweep")
def sweep(name: str) -> dict[str, int | str]:
    """Run a plain sweep, or send a chunked one's chunk tasks: answers the sweep's name with
    its counts, or with how many chunk tasks it sent (a worker's log tells which is which)."""
    as_of = clock.now()
    job = SWEEPS[name]
    if not isinstance(job, ChunkedSweep):
        return {"sweep": name, **job(as_of=as_of)}
    chunks = 0
    for ids in job.due_chunks(as_of=as_of, size=job.size):
        # A chunk still queued at the next pass is sent again by it, so this one expires
        # then instead of piling up behind a backlog; running both would be harmless.
        sweep_chunk.apply_async(
            args=(name, ids, as_of.isoformat()), expires=float(settings.RUNNER_INTERVAL_SECONDS)
        )
        chunks += 1
    return {"sweep": name, "chunks": chunks}


@app.task(name="clientledger.sweep_chunk")
def sweep_chunk(name: str, ids: list[int], as_of: str) -> dict[str, int | str]:
    """Run one chunk of a chunked sweep: its counts, with the sweep's name."""
    job = SWEEPS[name]
    if not isinstance(job, ChunkedSweep):
        raise TypeError(f"the sweep {name} is not chunked")
    return {"sweep": name, **job.run_chunk(ids=ids, as_of=dt.datetime.fromisoformat(as_of))}
