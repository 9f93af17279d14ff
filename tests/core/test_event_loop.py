"""The event loop the async parts run on."""

from __future__ import annotations

import asyncio


def test_the_async_parts_run_on_uvloop() -> None:
    import uvloop

    from monitor.event_loop import run

    async def loop_type() -> type:
        return type(asyncio.get_running_loop())

    assert run(loop_type()) is uvloop.Loop
