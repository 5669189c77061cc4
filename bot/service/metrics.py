"""Prometheus metrics: what the bot counts while it runs, and what it reads about itself when scraped.

Counters and histograms live in prometheus_client's default registry, beside its process and Python
collectors (memory, CPU, open files, garbage collection), and are counted where things happen: questions
by the `count_question` observer, limited ones by the rate limiter, replies and retries by the adapters,
digests and storage errors by the storage, knowledge reloads by `count_reloads`. What is cheaper to read
than to track (the knowledge, conversations in memory, writes waiting for the database) is read from the
running bot at scrape time by `BotState`. `exposition` renders both for `GET /metrics`.

No label ever holds user text or a user id: labels are platforms, languages, outcomes and fixed reasons.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

from prometheus_client import (
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    disable_created_metrics,
    generate_latest,
)
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, InfoMetricFamily, Metric
from prometheus_client.registry import Collector

if TYPE_CHECKING:
    from bot.app import Asked, Bot
    from bot.live import LiveKnowledge

log = logging.getLogger(__name__)

disable_created_metrics()  # no `*_created` series: they double the output and say nothing an operator needs

OUTCOMES = ("answered", "declined", "small_talk", "limited")
LANGUAGES = ("en", "zh")
REASONS = ("rate_limited", "server_error", "client_error", "refused", "connection", "timeout", "other")
"""Why a reply failed or a call was retried: fixed words, never the platform's message."""

QUESTIONS = Counter(
    "keynote_questions",
    "Questions, commands and clicks handled, by platform, language and outcome "
    "(answered, declined, small_talk; limited: refused by RATE_LIMIT_PER_MINUTE).",
    ["platform", "language", "outcome"],
)
CONFIDENCE = Histogram(
    "keynote_answer_confidence",
    "The matcher's confidence in the fact it settled on (small talk is not counted).",
    ["platform"],
    buckets=(0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0),
)
ANSWER_SECONDS = Histogram(
    "keynote_answer_seconds",
    "Time the bot took to answer a question (matching and follow-ups), in seconds.",
    ["platform"],
    buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0),
)
HANDLING_SECONDS = Histogram(
    "keynote_handling_seconds",
    "From a message, command or click reaching the bot to its reply accepted by the platform, in seconds.",
    ["platform"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0),
)
REPLIES_POSTED = Counter("keynote_replies_posted", "Replies the platform accepted.", ["platform"])
REPLIES_FAILED = Counter(
    "keynote_replies_failed",
    "Replies the platform did not take (after retries), by reason: " + ", ".join(REASONS) + ".",
    ["platform", "reason"],
)
RETRIES = Counter(
    "keynote_platform_retries",
    "Calls to the platform waited out and retried: after a 429 (rate_limited), a 5xx (server_error) "
    "or a dropped connection (connection).",
    ["platform", "reason"],
)
DIGESTS = Counter(
    "keynote_digests",
    "Scheduled digests by outcome, as this process recorded them: posted, failed (each failed attempt) and "
    "skipped (of those, the attempts after which a slot was given up: DIGEST_MAX_ATTEMPTS).",
    ["outcome"],
)
DIGESTS_DUE = Gauge("keynote_digests_due", "Digests due and not held by any process, at the last check.")
STORAGE_ERRORS = Counter(
    "keynote_storage_errors",
    "Database operations that failed: unavailable (unreachable or too slow) or failed (an error in a query).",
    ["kind"],
)
RELOADS = Counter(
    "keynote_knowledge_reloads",
    "Knowledge reloads: applied (the files changed and were swapped in) or failed (invalid files; the last "
    "good knowledge stays).",
    ["outcome"],
)


def prime(platform: str) -> None:
    """Create the series a running platform will count, at zero, so dashboards and rates see them first."""
    for language in LANGUAGES:
        for outcome in OUTCOMES:
            QUESTIONS.labels(platform, language, outcome)
    CONFIDENCE.labels(platform)
    ANSWER_SECONDS.labels(platform)
    HANDLING_SECONDS.labels(platform)
    REPLIES_POSTED.labels(platform)
    for outcome in ("posted", "failed", "skipped"):
        DIGESTS.labels(outcome)
    for kind in ("unavailable", "failed"):
        STORAGE_ERRORS.labels(kind)
    for outcome in ("applied", "failed"):
        RELOADS.labels(outcome)


def count_question(asked: Asked) -> None:
    """An observer (`Bot(observers=...)`): counts the question's outcome, confidence and time, never
    its words."""
    QUESTIONS.labels(asked.platform, asked.language, asked.outcome).inc()
    if asked.outcome != "small_talk":
        CONFIDENCE.labels(asked.platform).observe(asked.confidence)
    ANSWER_SECONDS.labels(asked.platform).observe(asked.seconds)


def count_limited(platform: str, language: str) -> None:
    QUESTIONS.labels(platform, language, "limited").inc()


def count_reply(platform: str, reason: str | None, seconds: float | None = None) -> None:
    """A reply delivered (`reason` None, with the time since the request arrived) or failed."""
    if reason is None:
        REPLIES_POSTED.labels(platform).inc()
        if seconds is not None:
            HANDLING_SECONDS.labels(platform).observe(seconds)
    else:
        REPLIES_FAILED.labels(platform, reason if reason in REASONS else "other").inc()


def count_retry(platform: str, reason: str) -> None:
    RETRIES.labels(platform, reason if reason in REASONS else "other").inc()


def status_reason(status: int) -> str:
    """The reason word for an HTTP status the platform answered with."""
    if status == 429:
        return "rate_limited"
    if status >= 500:
        return "server_error"
    if status >= 400:
        return "client_error"
    return "refused"


def count_reloads(live: LiveKnowledge) -> None:
    """Count this knowledge's reloads from now on, whoever starts them (the watcher or /reload).

    LiveKnowledge has no hook for it, so its two steps are wrapped on the instance: `_prepare` (building
    the new knowledge, which returns the error when the files are invalid) and `_swap` (putting new
    knowledge in place). tests/test_metrics.py changes real files to keep this honest."""
    if getattr(live, "_reloads_counted", False):
        return
    prepare: Callable[[], Any] = live._prepare
    swap: Callable[[Any], None] = live._swap

    @functools.wraps(prepare)
    def counted_prepare() -> Any:
        prepared = prepare()
        if isinstance(prepared, Exception):
            RELOADS.labels("failed").inc()
        return prepared

    @functools.wraps(swap)
    def counted_swap(snapshot: Any) -> None:
        changed = snapshot.knowledge.fingerprint != live.current.knowledge.fingerprint
        swap(snapshot)
        if changed:
            RELOADS.labels("applied").inc()

    live._prepare = counted_prepare  # type: ignore[method-assign]
    live._swap = counted_swap  # type: ignore[method-assign]
    live._reloads_counted = True  # type: ignore[attr-defined]


class BotState(Collector):
    """What a running bot holds, read at each scrape: its knowledge, conversations and pending writes."""

    def __init__(self, bot: Bot) -> None:
        self.bot = bot

    def collect(self) -> Iterator[Metric]:
        knowledge = self.bot.live.current.knowledge
        yield GaugeMetricFamily(
            "keynote_knowledge_facts", "Facts the bot answers from.", len(knowledge.facts)
        )
        yield GaugeMetricFamily(
            "keynote_knowledge_launches", "Launches the bot knows.", len(knowledge.launches)
        )
        version = InfoMetricFamily(
            "keynote_knowledge", "The knowledge loaded: its version (a digest of the files) and its packs."
        )
        version.add_metric(
            [], {"version": knowledge.fingerprint[:12], "packs": ",".join(sorted(knowledge.packs))}
        )
        yield version
        yield GaugeMetricFamily(
            "keynote_conversations",
            "Conversations remembered for follow-ups (one user in one thread, DM or channel).",
            len(self.bot.conversations),
        )
        storage = self.bot.storage
        if storage is None:
            return
        yield GaugeMetricFamily(
            "keynote_storage_up",
            "1 while the database answers, 0 while it is unavailable.",
            int(storage.available),
        )
        yield GaugeMetricFamily(
            "keynote_storage_pending_writes",
            "Feedback and missed-question writes waiting in memory for the database.",
            storage.pending_writes,
        )
        yield CounterMetricFamily(
            "keynote_storage_dropped_writes",
            "Pending writes dropped, oldest first, beyond DATABASE_MAX_PENDING_WRITES.",
            storage.dropped_writes,
        )


def state_registry(bot: Bot) -> CollectorRegistry:
    """A registry of its own for one bot's state, so several bots in one process (tests) never clash."""
    registry = CollectorRegistry(auto_describe=True)
    registry.register(BotState(bot))
    return registry


def exposition(state: CollectorRegistry) -> bytes:
    """The text `GET /metrics` serves: the process-wide counters, then this bot's state."""
    return generate_latest(REGISTRY) + generate_latest(state)
