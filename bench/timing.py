"""Timing helpers shared by the bench scenarios."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable


def median_ms(action: Callable[[], object], repeat: int = 15) -> float:
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        action()
        samples.append((time.perf_counter() - started) * 1000)
    return statistics.median(samples)


def paired_medians_ms(
    first: Callable[[], object], second: Callable[[], object], repeat: int = 15
) -> tuple[float, float]:
    """The medians of `first` and `second`, timed in turns (first, second, first...): on a
    shared machine both meet the same load, so their ratio holds when the load changes
    during the run, which timing one after the other does not."""
    samples: tuple[list[float], list[float]] = ([], [])
    for _ in range(repeat):
        for action, timed in zip((first, second), samples, strict=True):
            started = time.perf_counter()
            action()
            timed.append((time.perf_counter() - started) * 1000)
    return statistics.median(samples[0]), statistics.median(samples[1])


def p95_ms_capped(action: Callable[[], object], repeat: int, seconds: float) -> float:
    """p95 over `repeat` calls after one warm-up call, or over those that fit in `seconds`
    (at least 3): a page of several seconds would otherwise hold the bench for minutes."""
    action()
    samples: list[float] = []
    deadline = time.perf_counter() + seconds
    while len(samples) < repeat and (len(samples) < 3 or time.perf_counter() < deadline):
        started = time.perf_counter()
        action()
        samples.append((time.perf_counter() - started) * 1000)
    return statistics.quantiles(samples, n=20)[-1]


# The reference loop's median on a quiet core of this machine (sessions of issue 14 measured
# 4.8-5.2 ms when it was; 8-14 ms on the days its host slowed it down).
QUIET_REFERENCE_MS = 5.0


def reference_loop_ms(repeat: int = 60) -> tuple[float, float]:
    """Median and p95 of a fixed pure-Python computation (100,000 multiplications, about 5 ms
    on a quiet core), `repeat` times: how fast the machine is during a measure. A shared
    virtual machine slows down by half again for seconds at a time, and by 2.5x on some
    days, which absolute budgets see."""
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        sum(number * number % 7 for number in range(100_000))
        samples.append((time.perf_counter() - started) * 1000)
    return statistics.median(samples), statistics.quantiles(samples, n=20)[-1]


def print_reference(when: str) -> None:
    median, p95 = reference_loop_ms()
    print(
        f"reference loop {when}: median {median:.1f} ms, p95 {p95:.1f} ms"
        f" (a fixed pure-Python computation: about {QUIET_REFERENCE_MS:g} ms when the machine is"
        " quiet)",
        flush=True,
    )
