"""Backpressure on acknowledgements (`bot.service.backlog`): beyond the answers being worked on, the next
acknowledgement waits for one to finish, in order, and never past its hold."""

from __future__ import annotations

import asyncio

from bot.service.backlog import Backlog


async def test_beyond_the_limit_an_acknowledgement_waits_for_an_answer_to_finish_in_order() -> None:
    backlog = Backlog(limit=2, hold=60)
    for _ in range(2):
        await backlog.room()
        backlog.started()
    order: list[str] = []

    async def acknowledge(name: str) -> None:
        await backlog.room()
        backlog.started()
        order.append(name)

    first, second = asyncio.create_task(acknowledge("first")), asyncio.create_task(acknowledge("second"))
    for _ in range(5):
        await asyncio.sleep(0)
    assert order == [], "both wait while two answers are being worked on"
    backlog.finished()
    await first
    for _ in range(5):
        await asyncio.sleep(0)
    assert order == ["first"], "one answer finished: one acknowledgement goes, the longest waiting"
    backlog.finished()
    await second
    assert order == ["first", "second"]
    assert backlog.answering == 2


async def test_an_acknowledgement_never_waits_past_its_hold() -> None:
    backlog = Backlog(limit=1, hold=0.01)
    backlog.started()
    await asyncio.wait_for(backlog.room(), 30)  # returns by itself: nothing finished
    assert backlog.answering == 1
    backlog.finished()
    assert backlog.answering == 0


async def test_an_acknowledgement_that_gave_up_or_was_cancelled_is_skipped_and_not_kept() -> None:
    backlog = Backlog(limit=1, hold=60)
    backlog.started()
    backlog.hold = 0.01
    await asyncio.wait_for(backlog.room(), 30)  # gave up
    cancelled = asyncio.create_task(backlog.room())
    backlog.hold = 60
    waiting = asyncio.create_task(backlog.room())
    for _ in range(5):
        await asyncio.sleep(0)
    cancelled.cancel()
    for _ in range(5):
        await asyncio.sleep(0)
    backlog.finished()
    await asyncio.wait_for(waiting, 30)  # the one still waiting goes, not the ones that left
    assert not backlog._waiters, "nothing is left queued"
