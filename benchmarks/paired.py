"""Timing the sides of a comparison in turn, round by round.

pytest-benchmark times one side after the other. On a shared two-core machine,
where client and server take turns on the same cores, what else runs and how the
scheduler places the two processes drift between those runs by more than the
differences measured (a lookup's median moved by half between two groups of one
run). Here every round times a short batch of each side, in a shuffled order, so
drift falls on every side alike. Nothing here asserts a time.

A side is a `Timed`: given n, it makes n calls and returns the seconds they took.
Whatever it must do around its calls (an event loop to enter, a hook to switch)
stays outside the time it returns.
"""

from __future__ import annotations

import asyncio
import random
import statistics
import time
from collections.abc import Awaitable, Callable, Iterator, Mapping
from contextlib import AbstractAsyncContextManager, contextmanager
from typing import Any, TypeVar

T = TypeVar("T")

Timed = Callable[[int], float]

ROUNDS = 200
BATCH = 10  # calls of one side in a row, timed together
WARM_UP = 50  # calls per side first: prepared statements, caches, the ORM's compiled SQL


def timed(call: Callable[[], Any]) -> Timed:
    """A side of plain calls; each must find something (not None)."""

    def run(n: int) -> float:
        began = time.perf_counter()
        for _ in range(n):
            call()
        return time.perf_counter() - began

    assert call() is not None
    return run


def timed_async(runner: asyncio.Runner, call: Callable[[], Awaitable[Any]]) -> Timed:
    """A side of awaited calls, timed inside the event loop `runner` drives (entering
    the loop is not counted)."""

    async def batch(n: int) -> float:
        began = time.perf_counter()
        for _ in range(n):
            await call()
        return time.perf_counter() - began

    async def first() -> Any:
        return await call()

    assert runner.run(first()) is not None
    return lambda n: runner.run(batch(n))


def measure(
    sides: Mapping[str, Timed],
    rounds: int = ROUNDS,
    batch: int = BATCH,
    per_call: int = 1,
) -> dict[str, Any]:
    """Median seconds per call of each side, its rounds timed in turn; divided by
    `per_call` where one call does that many units of work (a round of 32 tasks)."""
    names = list(sides)
    for name in names:
        sides[name](WARM_UP if batch > 1 else 2)
    samples: dict[str, list[float]] = {name: [] for name in names}
    order = random.Random(20261201)
    for _ in range(rounds):
        # A shuffled order, not a rotated one: a rotation keeps each side behind the
        # same neighbour, and the side behind SQLAlchemy starts on caches it evicted.
        order.shuffle(names)
        for name in names:
            samples[name].append(sides[name](batch) / batch / per_call)
    return {
        name: {"median": statistics.median(times), "rounds": rounds, "batch": batch}
        for name, times in samples.items()
    }


def plain(sides: Mapping[str, Callable[[], Any]]) -> dict[str, Timed]:
    """`timed` for each side of a comparison of plain calls (benchmarks/sides.py)."""
    return {name: timed(call) for name, call in sides.items()}


@contextmanager
def entered(runner: asyncio.Runner, manager: AbstractAsyncContextManager[T]) -> Iterator[T]:
    """An async context manager entered and left in `runner`'s loop, for sync code."""
    value = runner.run(manager.__aenter__())
    try:
        yield value
    finally:
        runner.run(manager.__aexit__(None, None, None))
