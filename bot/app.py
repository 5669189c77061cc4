"""The platform-neutral bot: every adapter hands it text, a command or a button click, and gets a Reply.

Parsing and dispatch live here once, so a question reads the same on every platform.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Literal

from bot.commands import COMMANDS, Command, nearest
from bot.commands.ask import answer_reply, small_talk_reply
from bot.commands.launch import launch_reply
from bot.context import Context
from bot.conversations import Conversations
from bot.live import LiveKnowledge
from bot.replies import ActionId, Reply, untagged
from bot.service.admission import Admission
from bot.texts import examples, keynote_name, text
from knowledge.language import detect_language
from knowledge.matcher import Answer
from knowledge.models import Language

if TYPE_CHECKING:
    from bot.service.limits import RateLimiter
    from bot.storage import Storage

log = logging.getLogger(__name__)
LOCAL = Context()

MAX_QUESTION = 1000
_LEADING_MENTION = re.compile(r"^\s*(<@!?[A-Za-z0-9]+(\|[^>]*)?>\s*)+")
_MENTION = re.compile(r"<[@#!&][^>]*>")
"""Slack and Discord user, channel and role mentions: never stored with a missed question."""


@dataclass(frozen=True)
class Asked:
    """What became of one question: what metrics count and the curators' console charts.

    `question` is the user's words (mentions masked): an observer that exports or logs must not use it.
    """

    platform: str
    language: Language
    outcome: Literal["answered", "declined", "small_talk"]
    question: str
    fact_id: str | None
    pack: str | None
    confidence: float
    follow_up: bool
    seconds: float
    at: datetime


Observer = Callable[[Asked], None]
"""Told of every question after it is answered; must be quick and never raise (it is logged if it does)."""


def _utcnow() -> datetime:
    return datetime.now(UTC)


class Bot:
    def __init__(
        self,
        live: LiveKnowledge,
        storage: Storage | None = None,
        clock: Callable[[], datetime] = _utcnow,
        commands: tuple[Command, ...] = COMMANDS,
        observers: Sequence[Observer] = (),
        limiter: RateLimiter | None = None,
    ) -> None:
        """`storage` keeps subscriptions, feedback and missed questions; without it the bot still
        answers, and says subscriptions are unavailable. `clock` returns aware datetimes (tests set it).
        `commands` is the command table (tests swap in a failing one); `observers` are told of every
        question (metrics, the curators' console)."""
        self.live = live
        self.storage = storage
        self.clock = clock
        self.commands = commands
        self._by_name = {command.name: command for command in commands}
        self.conversations = Conversations()
        self.observers = list(observers)
        self.admission = Admission(storage, limiter)
        """Each request handled once across replicas, within the per-user rate limit (RATE_LIMIT_PER_MINUTE;
        `limiter` None: no limit)."""

    async def message(self, raw: str, ctx: Context = LOCAL) -> Reply:
        """A chat message: `/command args` or a question, after any leading @-mention of the bot."""
        stripped = _LEADING_MENTION.sub("", raw).strip()
        if stripped.startswith("/"):
            name, _, args = stripped[1:].partition(" ")
            return await self.command(name, args, ctx)
        return await self.command("ask", stripped, ctx)

    async def command(self, name: str, args: str, ctx: Context = LOCAL) -> Reply:
        """A slash command by name, with the rest of the line as its arguments.

        This is the one failure path for every platform: a handler that raises is logged with its
        traceback (never the user's words) and the user gets a private "something went wrong".
        """
        language = detect_language(args) if args.strip() else ctx.language or "en"
        if (refused := await self.admission.refusal(ctx, language)) is not None:
            return refused
        name = name.strip().lower()
        if len(args) > MAX_QUESTION:
            return Reply.error(text("too_long", language, length=len(args), limit=MAX_QUESTION), language)
        command = self._by_name.get(name)
        if command is None:
            return Reply.error(
                text("unknown_command", language, name=name),
                language,
                suggestions=[f"/{c.name}" for c in nearest(self.commands, name)],
            )
        if command.managers_only and not ctx.can_manage:
            return Reply.error(text("not_allowed", language), language)
        try:
            return await command.handler(self, args, ctx, language)
        except Exception:
            log.exception("/%s failed on %s", command.name, ctx.platform)
            return Reply.error(text("failed", language), language)

    async def action(self, action: ActionId, value: str, ctx: Context = LOCAL) -> Reply:
        """A button click: a suggested question, a suggested launch, or feedback on an answer."""
        if action == "ask":
            return await self.command("ask", value, ctx)
        value, language = untagged(value)
        if (refused := await self.admission.refusal(ctx, language)) is not None:
            return refused
        try:
            return self._click(action, value, ctx, language)
        except Exception:
            log.exception("the %s button failed on %s", action, ctx.platform)
            return Reply.error(text("failed", language), language)

    def _click(self, action: ActionId, value: str, ctx: Context, language: Language) -> Reply:
        snapshot = self.live.current
        if action == "launch":
            return launch_reply(snapshot.knowledge, snapshot.matcher, value, language)
        fact = snapshot.knowledge.facts.get(value)
        log.info("feedback %s on fact %s from %s", action, value if fact else "(unknown)", ctx.platform)
        if fact is not None and self.storage is not None:
            up = action == "feedback_up"
            self._store(self.storage.record_feedback, fact.id, up, ctx.platform, ctx.user, self.clock())
        return Reply.notice(text("feedback_thanks", language), language)

    def ask(self, question: str, ctx: Context = LOCAL) -> Reply:
        language = detect_language(question)
        knowledge = self.live.current.knowledge
        if not question.strip():
            example = next(iter(examples(knowledge, language)), "")
            keynote = keynote_name(knowledge, language)
            return Reply.error(text("empty_question", language, keynote=keynote, example=example), language)
        if len(question) > MAX_QUESTION:
            return Reply.error(text("too_long", language, length=len(question), limit=MAX_QUESTION), language)
        started = time.perf_counter()
        answer = self.answer(question, ctx)
        self._observe(answer, ctx, _MENTION.sub("@…", question).strip(), time.perf_counter() - started)
        if answer.small_talk is not None:
            return small_talk_reply(knowledge, answer.language)
        if not answer.answered and self.storage is not None:
            suggestions = [suggestion.fact_id for suggestion in answer.suggestions]
            self._store(
                self.storage.record_unanswered,
                _MENTION.sub("@…", question).strip(),
                answer.language,
                ctx.platform,
                suggestions,
                self.clock(),
            )
        return answer_reply(answer, knowledge)

    def _observe(self, answer: Answer, ctx: Context, question: str, seconds: float) -> None:
        if not self.observers:
            return
        outcome: Literal["answered", "declined", "small_talk"] = (
            "small_talk" if answer.small_talk else "answered" if answer.answered else "declined"
        )
        asked = Asked(
            platform=ctx.platform,
            language=answer.language,
            outcome=outcome,
            question=question,
            fact_id=answer.fact.id if answer.fact else None,
            pack=answer.pack,
            confidence=answer.confidence,
            follow_up=answer.follow_up,
            seconds=seconds,
            at=self.clock(),
        )
        for observer in self.observers:
            try:
                observer(asked)
            except Exception:
                log.exception("an observer failed on a question from %s", ctx.platform)

    def answer(self, question: str, ctx: Context = LOCAL) -> Answer:
        """The matcher's answer, as a follow-up in the asker's conversation, which it then moves on."""
        now = self.clock()
        answer = self.live.current.matcher.ask(question, self.conversations.topic(ctx.conversation, now))
        if answer.topic is not None:
            self.conversations.remember(ctx.conversation, answer.topic, now, answer.follow_up)
        log.debug(
            "question on %s: fact=%s confidence=%.3f answered=%s follow_up=%s small_talk=%s",
            ctx.platform,
            answer.fact.id if answer.fact else None,
            answer.confidence,
            answer.answered,
            answer.follow_up,
            answer.small_talk,
        )
        return answer

    def _store(self, operation: Callable[..., object], *args: object) -> None:
        """Write in the background: a reply never waits on the database; `drain` awaits the writes."""
        if self.storage is None:
            return
        try:
            self.storage.write(operation, *args)
        except RuntimeError:  # no running event loop: a one-shot command
            log.debug("no event loop, so %s is not stored", operation.__name__)

    async def drain(self) -> None:
        """Wait for the background writes to be stored (at shutdown, and in tests)."""
        if self.storage is not None:
            await self.storage.drain()
