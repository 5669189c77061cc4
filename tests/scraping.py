"""Read a running bot's `/metrics` and `/healthz` over HTTP, as Prometheus and a load balancer would."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Callable
from typing import Any

import aiohttp
from prometheus_client.parser import text_string_to_metric_families

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def scrape(session: aiohttp.ClientSession, url: str) -> Samples:
    """Every sample `GET {url}/metrics` serves, by name and labels; checks it is Prometheus's text format."""
    async with session.get(f"{url}/metrics") as response:
        assert response.status == 200
        assert response.headers["Content-Type"].startswith("text/plain; version=")
        text = await response.text()
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def value(samples: Samples, name: str, **labels: str) -> float:
    """One sample's value (0 when the series does not exist yet)."""
    return samples.get((name, frozenset(labels.items())), 0.0)


async def health(session: aiohttp.ClientSession, url: str) -> tuple[int, dict[str, Any]]:
    async with session.get(f"{url}/healthz") as response:
        assert response.headers["Content-Type"].startswith("application/json")
        return response.status, await response.json()


async def until_healthy(session: aiohttp.ClientSession, url: str, timeout: float = 30.0) -> dict[str, Any]:
    """Poll `/healthz` until it answers 200 (the server may still be starting, the platform connecting)."""
    async with asyncio.timeout(timeout):
        while True:
            try:
                status, body = await health(session, url)
                if status == 200:
                    return body
            except aiohttp.ClientConnectionError:
                pass
            await asyncio.sleep(0.02)


async def until_counted(
    session: aiohttp.ClientSession, url: str, check: Callable[[Samples], bool], timeout: float = 30.0
) -> Samples:
    """Scrape until `check` holds: a counter moves just after the platform sees the reply it counts."""
    async with asyncio.timeout(timeout):
        while not check(samples := await scrape(session, url)):
            await asyncio.sleep(0.02)
    return samples
