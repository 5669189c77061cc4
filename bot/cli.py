"""`python -m bot` (also `keynote-bot`): the console chat by default, and the shell commands."""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import logging
import sys
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from rich.console import Console

from bot.app import Bot
from bot.commands import COMMANDS
from bot.context import Context
from bot.errors import StartupError
from bot.live import LiveKnowledge
from bot.service import health, logs
from bot.settings import Platform, Settings, SettingsError, load_settings
from knowledge.loader import BUNDLED_DIR, KnowledgeError, load_knowledge
from knowledge.matcher import ambiguous_facts
from knowledge.schema import SCHEMA_PATH, schema_text

log = logging.getLogger(__name__)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="keynote-bot", description=__doc__)
    commands = parser.add_subparsers(dest="command")
    for command in COMMANDS:
        if command.managers_only:
            continue  # /reload means nothing to a one-shot process
        sub = commands.add_parser(command.name, help=command.description)
        if command.option is not None:
            sub.add_argument("words", nargs="*", metavar=command.option.name)
        if command.name == "ask":
            sub.add_argument("--json", action="store_true", help="read stdin, print JSON lines")
            sub.add_argument(
                "--conversations",
                action="store_true",
                help='with --json: lines are {"conversation": ID, "question": TEXT}, one ID per conversation',
            )
    commands.add_parser("check", help="validate the knowledge; exit 1 on errors")
    pack = commands.add_parser("new-pack", help="start a pack: pack.yaml, an example fact and launch")
    pack.add_argument("directory", type=Path)
    pack.add_argument("--id", required=True, help="the pack's id, e.g. galaxy-devcon-2031")
    pack.add_argument("--title", required=True, help='the keynote, e.g. "Galaxy DevCon 2031 opening keynote"')
    pack.add_argument("--event", help="the conference (default: the title)")
    pack.add_argument("--date", type=date.fromisoformat, help="YYYY-MM-DD, when a source gives it")
    schema = commands.add_parser("schema", help="write knowledge/schema.json from the models")
    schema.add_argument("--check", action="store_true", help="exit 1 if the file is out of date")
    gaps = commands.add_parser("gaps", help="for curators: frequent unanswered questions and most 👎 facts")
    gaps.add_argument("--json", action="store_true", help="print JSON for tooling")
    gaps.add_argument("--limit", type=int, default=20, help="how many groups and facts to show (default 20)")
    gaps.add_argument("--days", type=float, help="only questions asked in the last DAYS days")
    commands.add_parser(
        "health", help="exit 0 if the running bot's heartbeat is fresh (container health check)"
    )
    commands.add_parser("web", help="serve the curators' web console on WEB_HOST:WEB_PORT")
    run = commands.add_parser("run", help="start the bot on a platform (default: BOT_PLATFORM)")
    run.add_argument("platform", nargs="?", choices=["console", "slack", "discord"])
    return parser


def _knowledge_dir(settings: Settings) -> Path:
    return settings.knowledge_dir or BUNDLED_DIR


def _live(settings: Settings) -> LiveKnowledge:
    try:
        return LiveKnowledge(_knowledge_dir(settings))
    except KnowledgeError as error:
        print(f"invalid knowledge in {_knowledge_dir(settings)}:\n{error}", file=sys.stderr)
        raise SystemExit(1) from None


def _check(settings: Settings) -> int:
    directory = _knowledge_dir(settings)
    try:
        knowledge = load_knowledge(directory)
    except KnowledgeError as error:
        print(error, file=sys.stderr)
        print(f"{len(error.problems)} error(s) in {directory}", file=sys.stderr)
        return 1
    warnings = ambiguous_facts(knowledge)
    for warning in warnings:
        print(warning)
    names = ", ".join(knowledge.packs)
    which = f"in {len(knowledge.packs)} packs ({names})" if len(knowledge.packs) > 1 else f"({names})"
    print(
        f"ok: {len(knowledge.facts)} facts, {len(knowledge.launches)} launches {which} in {directory}"
        + (f", {len(warnings)} warning(s)" if warnings else "")
    )
    return 0


def _ask_json(bot: Bot, conversations: bool) -> int:
    """One JSON object per line of stdin, in order. With `conversations`, each line is
    {"conversation": ID, "question": TEXT} and lines with one ID are the turns of one conversation.

    Input is decoded as UTF-8 with invalid bytes replaced, and output is always valid UTF-8, so one
    bad line never costs the lines after it; a malformed conversation line gets an object with `error`.
    """
    out = sys.stdout.buffer
    for number, raw in enumerate(sys.stdin.buffer, 1):
        question = raw.decode("utf-8", errors="replace").rstrip("\r\n")
        key: str | None = None
        record: dict[str, object]
        if conversations:
            try:
                turn = json.loads(question)
                question, key = str(turn["question"]), str(turn["conversation"])
            except (ValueError, KeyError, TypeError) as error:
                record = {
                    "question": question,
                    "answered": False,
                    "answer": "",
                    "error": f'line {number}: expected {{"conversation": ID, "question": TEXT}} ({error})',
                }
                out.write(_json_line(record))
                out.flush()
                continue
        answer = bot.answer(question, Context(platform="cli", conversation=key))
        record = {
            "question": question,
            "answered": answer.answered,
            "answer": answer.text,
            "fact_id": answer.fact.id if answer.fact else None,
            "score": round(answer.confidence, 4),
            "suggestions": [s.question for s in answer.suggestions],
            "language": answer.language,
            "small_talk": answer.small_talk is not None,
            "follow_up": answer.follow_up,
            "pack": answer.pack if answer.answered else None,
        }
        out.write(_json_line(record))
        out.flush()
    return 0


def _json_line(record: dict[str, object]) -> bytes:
    """A JSON line in UTF-8; a lone surrogate from a JSON escape becomes U+FFFD, never a crash."""
    return (json.dumps(record, ensure_ascii=False) + "\n").encode("utf-8", errors="replace")


def _gaps(args: argparse.Namespace, settings: Settings) -> int:
    from sqlalchemy.exc import SQLAlchemyError

    from bot.curation.gaps import gaps_report, render_text
    from bot.storage import open_storage

    storage = open_storage(settings)
    now = datetime.now(UTC)
    days = min(args.days, settings.gaps_retention_days) if args.days else settings.gaps_retention_days
    since = now - timedelta(days=days)
    try:
        storage.expire(now)  # missed questions past GAPS_RETENTION_DAYS are deleted, not just hidden
        missed = storage.missed_questions(since)
        votes = storage.fact_votes()
    except SQLAlchemyError as error:
        print(f"cannot read the database {storage.describe()}: {str(error).splitlines()[0]}", file=sys.stderr)
        return 1
    finally:
        storage.close()
    try:
        knowledge = load_knowledge(_knowledge_dir(settings))
    except KnowledgeError:
        knowledge = None
    report = gaps_report(missed, votes, knowledge, limit=args.limit)
    if args.json:
        print(json.dumps(report.to_json(), ensure_ascii=False, indent=2))
    else:
        print(render_text(report))
    return 0


def _run(platform: Platform, settings: Settings) -> int:
    from bot.storage import open_storage
    from bot.storage.migrations import SchemaTooNew
    from bot.storage.store import UNAVAILABLE

    if platform == "console":
        # The console reads a terminal or piped lines. Where stdin is neither (/dev/null or closed:
        # `docker run -d`, a service manager) it would end at once, so say what to set instead.
        import os
        import stat

        from bot.settings import REQUIRED

        try:
            readable = sys.stdin.isatty() or not stat.S_ISCHR(os.fstat(sys.stdin.fileno()).st_mode)
        except (AttributeError, OSError, ValueError):
            readable = False
        if not readable:
            needs = {
                name: " and ".join(n.upper() for n in secrets)
                for name, secrets in REQUIRED.items()
                if secrets
            }
            ready = [name for name in needs if all(getattr(settings, n) is not None for n in REQUIRED[name])]
            raise SettingsError(
                "The console (BOT_PLATFORM=console, the default) needs a terminal or piped input, and "
                "stdin is neither. To serve a chat platform set "
                + ", or ".join(f"BOT_PLATFORM={name} with {names}" for name, names in needs.items())
                + "; for the console, run it in a terminal (docker run -it)."
                + "".join(f" {needs[name]} set: did you mean BOT_PLATFORM={name}?" for name in ready)
            )
    settings.require(platform)
    storage = open_storage(settings)
    if settings.user_hash_salt is None and settings.user_hash_salt_file is None:
        log.warning(
            "USER_HASH_SALT is not set: the salt for the hashed user ids stored with 👍/👎 is kept in the "
            "same database as the hashes, so anyone who can read the database can tell who voted by "
            "hashing candidate user ids. Set USER_HASH_SALT, or USER_HASH_SALT_FILE to a file outside "
            "the database"
        )
    try:
        storage.prepare()
        log.info("storage: %s", storage.describe())
    except SchemaTooNew as error:
        print(error, file=sys.stderr)
        return 2
    except UNAVAILABLE as error:
        log.error(
            "database %s unavailable at start (%s): answering questions without it until it is back",
            storage.describe(),
            str(error).splitlines()[0],
        )
    live = _live(settings)
    live.max_drop = settings.knowledge_max_drop
    from bot.curation.records import QuestionRecorder
    from bot.service import limits, logs, metrics

    if settings.web_enabled:
        from adapters.web.auth import require_token

        require_token(settings)  # refuse at start, naming WEB_TOKEN, not when the console opens
    bot = Bot(
        live,
        storage=storage,
        observers=[metrics.count_question, logs.log_question, QuestionRecorder(storage)],
        limiter=limits.RateLimiter.from_settings(settings, storage),
    )
    try:
        _start(platform, bot, settings)
    finally:
        storage.close()
    return 0


def _start(platform: Platform, bot: Bot, settings: Settings) -> None:
    """Where the program is assembled: the only place `bot` imports an adapter."""
    from adapters import Run

    run: Run
    if platform == "slack":
        from adapters.slack import run
    elif platform == "discord":
        from adapters.discord import run
    else:
        from adapters.console import run

    async def serving() -> None:
        """The platform, and with WEB_ENABLED=1 the curators' console beside it in this process."""
        _freeze_start_up()
        if not settings.web_enabled:
            await run(bot, settings)
            return
        from adapters.web import serve

        web = asyncio.create_task(serve(bot, settings), name="web-console")
        try:
            await run(bot, settings)
        finally:
            web.cancel()
            await asyncio.gather(web, return_exceptions=True)

    if platform == "console":
        asyncio.run(serving())
        return
    try:  # a faster event loop for a chat platform's network work (not on Windows)
        import uvloop
    except ImportError:
        asyncio.run(serving())
    else:
        uvloop.run(serving())


def _freeze_start_up() -> None:
    """Move what start-up made (imported modules, the knowledge, the app: some 30,000 objects that live
    as long as the process) out of the cyclic collector's reach. Every full collection walked them
    all: under load, a pause of about 20 ms at a time instead of 5 (`python -m benchmarks.load`), each
    delaying every acknowledgement in flight."""
    gc.collect()
    gc.freeze()


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        settings = load_settings()
    except SettingsError as error:
        print(error, file=sys.stderr)
        return 2
    logs.configure(_log_level(args, settings), settings.log_format)
    try:
        return _dispatch(args, settings)
    except SettingsError as error:
        print(error, file=sys.stderr)
        return 2
    except StartupError as error:
        print(error, file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


def _log_level(args: argparse.Namespace, settings: Settings) -> str:
    """INFO for a chat platform's service log; in the console and shell commands, log lines would
    interleave with the replies, so only warnings unless LOG_LEVEL asks for more."""
    platform = getattr(args, "platform", None) or settings.bot_platform
    serving = args.command in (None, "run") and platform != "console"
    return settings.log_level if serving or "log_level" in settings.model_fields_set else "WARNING"


def _new_pack(args: argparse.Namespace) -> int:
    from knowledge.scaffold import ScaffoldError, new_pack

    try:
        written = new_pack(args.directory, args.id, args.title, args.event, args.date)
    except ScaffoldError as error:
        print(error, file=sys.stderr)
        return 1
    print("wrote " + ", ".join(str(path) for path in written))
    print(f"next: edit {args.directory}/facts.yaml, then KNOWLEDGE_DIR={args.directory} python -m bot check")
    return 0


def _dispatch(args: argparse.Namespace, settings: Settings) -> int:
    if args.command == "new-pack":
        return _new_pack(args)
    if args.command == "check":
        return _check(settings)
    if args.command == "schema":
        if args.check:
            current = SCHEMA_PATH.read_text(encoding="utf-8") if SCHEMA_PATH.exists() else ""
            if current != schema_text():
                print(f"{SCHEMA_PATH} is out of date: run `python -m bot schema`", file=sys.stderr)
                return 1
            return 0
        SCHEMA_PATH.write_text(schema_text(), encoding="utf-8")
        print(f"wrote {SCHEMA_PATH}")
        return 0
    if args.command == "gaps":
        return _gaps(args, settings)
    if args.command == "health":
        problem = health.check(health.heartbeat_file(settings.data_dir))
        print(problem or "ok", file=sys.stderr if problem else sys.stdout)
        return 1 if problem else 0
    if args.command == "web":
        from adapters.web import command

        return command(settings)
    if args.command in (None, "run"):
        platform = getattr(args, "platform", None) or settings.bot_platform
        return _run(platform, settings)
    live = _live(settings)
    if args.command == "ask" and args.json:
        return _ask_json(Bot(live), args.conversations)
    from adapters.console.render import render

    bot = Bot(live)
    words = " ".join(getattr(args, "words", []))
    reply = asyncio.run(bot.command(args.command, words))
    Console().print(render(reply))
    return 1 if reply.kind == "error" else 0
