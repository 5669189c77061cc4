"""The console's HTTP side: routes, sign-in, CSRF, and the templates; what it shows and changes comes from
`bot.curation` and `knowledge`."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

import aiohttp_jinja2
import jinja2
from aiohttp import web

from adapters.web.auth import COOKIE, SESSION_SECONDS, Gate, Session
from adapters.web.charts import shares, stacked_bars
from bot.app import Bot
from bot.curation.edits import AddVariant, Change, EditError, Editor, NewFact, Operation
from bot.curation.gaps import disliked_facts
from bot.curation.records import Records
from bot.curation.stats import DAYS, since, stats
from bot.curation.triage import disliked_json, low_confidence, open_gaps
from bot.curation.trial import try_question
from knowledge.language import detect_language
from knowledge.loader import Knowledge
from knowledge.models import Fact

log = logging.getLogger(__name__)

HERE = Path(__file__).parent
SESSION = web.RequestKey("session", Session)
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
PUBLIC = ("/login", "/healthz", "/static/")


class Console:
    """What the handlers share: the bot (its live knowledge and storage), the records, the editor."""

    def __init__(self, bot: Bot, token: str | None, clock: Callable[[], datetime] | None = None) -> None:
        self.bot = bot
        self.gate = Gate(token)
        self.records = Records(bot.storage) if bot.storage is not None else None
        self.editor = Editor(bot.live.directory)
        self.clock = clock or bot.clock

    @property
    def knowledge(self) -> Knowledge:
        return self.bot.live.current.knowledge

    async def call(self, method: Callable[..., Any], *args: Any, default: Any = None) -> Any:
        """A storage read or write through `Storage.call`; `default` when there is no database."""
        if self.bot.storage is None:
            return default
        result = await self.bot.storage.call(method, *args)
        return default if result is None else result


CONSOLE = web.AppKey("console", Console)


def _console(request: web.Request) -> Console:
    return request.app[CONSOLE]


def _session(request: web.Request) -> Session:
    return request[SESSION]


@web.middleware
async def _security(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Sign-in for every page but the public ones, CSRF for every POST, and headers that keep the page
    to itself (no framing, no scripts or styles from elsewhere)."""
    console = _console(request)
    gate = console.gate
    issued: str | None = None
    session: Session | None = None
    bearer = request.headers.get("Authorization", "")
    if bearer.lower().startswith("bearer "):
        if not gate.token_ok(bearer[7:].strip()):
            return web.json_response({"error": "wrong token"}, status=401)
        session = Session("api", "")
    else:
        session = gate.session(request.cookies.get(COOKIE))
        if session is None and gate.open:
            issued = gate.issue("local")
            session = gate.session(issued)
    public = request.path.startswith(PUBLIC)
    if session is None and not public:
        if request.path.startswith("/api/"):
            return web.json_response(
                {"error": "sign in, or send Authorization: Bearer WEB_TOKEN"}, status=401
            )
        if request.method == "GET":
            raise web.HTTPSeeOther("/login?" + urlencode({"next": request.path_qs}))
        return web.Response(status=401, text="sign in first")
    if session is not None:
        request[SESSION] = session
    if request.method == "POST" and session is not None and session.value and request.path != "/login":
        form = await request.post()
        if not gate.csrf_ok(session, str(form.get("csrf", ""))):
            return web.Response(
                status=403, text="the form has expired or did not come from this console (CSRF)"
            )
    response = await handler(request)
    if issued is not None:
        _set_cookie(response, issued)
    response.headers.setdefault(
        "Content-Security-Policy",
        "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
        "frame-ancestors 'none'",
    )
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    return response


def _set_cookie(response: web.StreamResponse, value: str) -> None:
    response.set_cookie(
        COOKIE, value, max_age=SESSION_SECONDS, httponly=True, secure=True, samesite="Strict", path="/"
    )


async def _context(request: web.Request, **values: Any) -> dict[str, Any]:
    session: Session | None = request.get(SESSION)
    console = _console(request)
    return {
        "curator": session.curator if session else None,
        "csrf": console.gate.csrf(session) if session and session.value else "",
        "signed_in": session is not None and not console.gate.open,
        "path": request.path,
        "has_storage": console.bot.storage is not None,
        **values,
    }


async def _render(request: web.Request, template: str, status: int = 200, **values: Any) -> web.Response:
    return aiohttp_jinja2.render_template(template, request, await _context(request, **values), status=status)


# -- sign-in


async def login_page(request: web.Request) -> web.Response:
    return await _render(request, "login.html", next=request.query.get("next", "/"), error=None)


async def login(request: web.Request) -> web.Response:
    console = _console(request)
    form = await request.post()
    target = str(form.get("next", "/"))
    if not target.startswith("/") or target.startswith("//"):
        target = "/"
    curator = " ".join(str(form.get("curator", "")).split())[:60] or "curator"
    if console.gate.open or not console.gate.token_ok(str(form.get("token", ""))):
        log.warning("console sign-in refused from %s", request.remote)
        return await _render(request, "login.html", status=401, next=target, error="That token is not right.")
    response = web.HTTPSeeOther(target)
    _set_cookie(response, console.gate.issue(curator))
    raise response


async def logout(request: web.Request) -> web.Response:
    response = web.HTTPSeeOther("/login")
    response.del_cookie(COOKIE, path="/")
    raise response


async def healthz(request: web.Request) -> web.Response:
    return web.json_response({"ok": True, "facts": len(_console(request).knowledge.facts)})


# -- overview


async def _stats(console: Console) -> Any:
    now = console.clock()
    start = since(now)
    records = console.records
    asked = await console.call(records.asked_since, start, default=[]) if records else []
    votes = await console.call(records.votes_since, start, default=[]) if records else []
    gaps = await _gaps(console, 8)
    return stats(now, asked, votes, console.knowledge, [gap.group for gap in gaps])


async def overview(request: web.Request) -> web.Response:
    console = _console(request)
    report = await _stats(console)
    columns = [
        (day.day.strftime("%b %d"), [day.answered, day.declined, day.small_talk]) for day in report.days
    ]
    questions = stacked_bars(
        "Questions per day",
        columns,
        [("answered", "answered"), ("declined", "declined"), ("small talk", "smalltalk")],
    )
    votes = stacked_bars(
        "Votes per day",
        [(day.day.strftime("%b %d"), [day.up, day.down]) for day in report.days],
        [("helpful", "up"), ("not helpful", "down")],
    )
    return await _render(
        request,
        "overview.html",
        stats=report,
        charts=[questions, votes],
        platforms=shares(report.platforms),
        languages=shares(
            {
                "English" if k == "en" else "Chinese" if k == "zh" else k: v
                for k, v in report.languages.items()
            }
        ),
        days=DAYS,
    )


async def api_stats(request: web.Request) -> web.Response:
    return web.json_response((await _stats(_console(request))).to_json())


# -- gaps


async def _gaps(console: Console, limit: int = 50) -> list[Any]:
    storage = console.bot.storage
    if storage is None:
        return []
    start = console.clock() - (storage.retention or timedelta(days=90))
    missed = await console.call(storage.missed_questions, start, default=[])
    matcher = console.bot.live.current.matcher
    return await asyncio.to_thread(open_gaps, missed, matcher, limit)


async def _disliked(console: Console) -> list[Any]:
    storage = console.bot.storage
    votes = await console.call(storage.fact_votes, default=[]) if storage else []
    return disliked_facts(votes, console.knowledge)


async def gaps(request: web.Request) -> web.Response:
    console = _console(request)
    return await _render(
        request, "gaps.html", gaps=await _gaps(console), fact_ids=sorted(console.knowledge.facts)
    )


async def api_gaps(request: web.Request) -> web.Response:
    console = _console(request)
    found = await _gaps(console)
    return web.json_response(
        {"gaps": [gap.to_json() for gap in found], "disliked": disliked_json(await _disliked(console))}
    )


# -- review


async def _review(console: Console) -> tuple[list[Any], list[Any]]:
    records = console.records
    asked = await console.call(records.asked_since, since(console.clock()), default=[]) if records else []
    reviewed = await console.call(records.reviewed, default={}) if records else {}
    return low_confidence(asked, console.bot.live.current.matcher, reviewed), await _disliked(console)


async def review(request: web.Request) -> web.Response:
    console = _console(request)
    low, disliked = await _review(console)
    return await _render(
        request,
        "review.html",
        low=low,
        disliked=disliked,
        fact_ids=sorted(console.knowledge.facts),
        notice=request.query.get("done"),
    )


async def review_mark(request: web.Request) -> web.Response:
    console = _console(request)
    form = await request.post()
    verdict = str(form.get("verdict", ""))
    question = str(form.get("question", ""))
    if verdict not in ("confirmed", "unanswerable") or not question or console.records is None:
        raise web.HTTPBadRequest(text="verdict must be confirmed or unanswerable, with a question")
    fact_id = str(form.get("fact_id", "")) or None
    await console.call(
        console.records.record_review, console.clock(), _session(request).curator, question, verdict, fact_id
    )
    raise web.HTTPSeeOther("/review?" + urlencode({"done": verdict}))


async def api_review(request: web.Request) -> web.Response:
    low, disliked = await _review(_console(request))
    return web.json_response(
        {"low_confidence": [item.to_json() for item in low], "disliked": disliked_json(disliked)}
    )


# -- facts


def _launches_of(knowledge: Knowledge, fact_id: str) -> list[str]:
    return [launch.id for launch in knowledge.launches.values() if fact_id in launch.facts]


def _matches(fact: Fact, query: str) -> bool:
    if not query:
        return True
    haystack = " ".join(
        [
            fact.id,
            fact.topic,
            *fact.questions.en,
            *fact.questions.zh,
            fact.answer.en,
            fact.answer.zh,
            *fact.keywords,
        ]
    )
    return query.casefold() in haystack.casefold()


def _catalogue(knowledge: Knowledge, query: str) -> list[dict[str, Any]]:
    """Every pack with its launches and their facts, then the facts in no launch; filtered by `query`."""
    packs = []
    for pack_id, pack in knowledge.packs.items():
        launches = []
        placed: set[str] = set()
        for launch_id, launch in knowledge.launches.items():
            if knowledge.launch_packs.get(launch_id) != pack_id:
                continue
            facts = [knowledge.facts[f] for f in launch.facts if f in knowledge.facts]
            placed.update(f.id for f in facts)
            shown = [f for f in facts if _matches(f, query)]
            if shown or (query and query.casefold() in launch.name.casefold()):
                launches.append(
                    {"id": launch_id, "name": launch.name, "status": launch.status, "facts": shown or facts}
                )
        others = [
            fact
            for fact_id, fact in knowledge.facts.items()
            if knowledge.fact_packs.get(fact_id) == pack_id
            and fact_id not in placed
            and _matches(fact, query)
        ]
        packs.append(
            {
                "id": pack_id,
                "title": pack.title.en,
                "event": pack.event,
                "launches": launches,
                "others": others,
            }
        )
    return packs


async def facts(request: web.Request) -> web.Response:
    console = _console(request)
    query = request.query.get("q", "").strip()
    catalogue = _catalogue(console.knowledge, query)
    count = sum(len(launch["facts"]) for pack in catalogue for launch in pack["launches"]) + sum(
        len(pack["others"]) for pack in catalogue
    )
    return await _render(request, "facts.html", catalogue=catalogue, query=query, count=count)


async def api_facts(request: web.Request) -> web.Response:
    knowledge = _console(request).knowledge
    query = request.query.get("q", "").strip()
    return web.json_response(
        {
            "facts": [
                {
                    "id": fact_id,
                    "pack": knowledge.fact_packs.get(fact_id),
                    "file": knowledge.fact_files.get(fact_id),
                    "launches": _launches_of(knowledge, fact_id),
                    **fact.model_dump(mode="json", exclude={"id"}),
                }
                for fact_id, fact in knowledge.facts.items()
                if _matches(fact, query)
            ]
        }
    )


async def _fact_usage(console: Console, fact_id: str) -> dict[str, Any]:
    records = console.records
    asked = await console.call(records.asked_since, since(console.clock()), default=[]) if records else []
    storage = console.bot.storage
    votes = await console.call(storage.fact_votes, default=[]) if storage else []
    vote = next((v for v in votes if v.fact_id == fact_id), None)
    edits = await console.call(records.edits, 20, fact_id, default=[]) if records else []
    return {
        "asked": sum(1 for row in asked if row.fact_id == fact_id and row.outcome == "answered"),
        "up": vote.up if vote else 0,
        "down": vote.down if vote else 0,
        "edits": edits,
    }


async def fact_page(request: web.Request) -> web.Response:
    console = _console(request)
    fact_id = request.match_info["fact_id"]
    knowledge = console.knowledge
    fact = knowledge.facts.get(fact_id)
    if fact is None:
        return await _render(request, "missing.html", status=404, what=f"fact {fact_id}")
    launches = [knowledge.launches[launch_id] for launch_id in _launches_of(knowledge, fact_id)]
    return await _render(
        request,
        "fact.html",
        fact=fact,
        file=knowledge.fact_files.get(fact_id),
        pack=knowledge.fact_packs.get(fact_id),
        launches=launches,
        usage=await _fact_usage(console, fact_id),
    )


async def api_fact(request: web.Request) -> web.Response:
    console = _console(request)
    fact_id = request.match_info["fact_id"]
    fact = console.knowledge.facts.get(fact_id)
    if fact is None:
        return web.json_response({"error": f"no fact {fact_id}"}, status=404)
    usage = await _fact_usage(console, fact_id)
    usage["edits"] = [edit.to_json() for edit in usage["edits"]]
    return web.json_response(
        {**fact.model_dump(mode="json"), "file": console.knowledge.fact_files.get(fact_id), **usage}
    )


# -- try it


async def try_page(request: web.Request) -> web.Response:
    console = _console(request)
    question = request.query.get("q", "").strip()
    trial = try_question(console.bot.live.current.matcher, question) if question else None
    return await _render(
        request, "try.html", question=question, trial=trial, saved=request.query.get("saved")
    )


async def api_try(request: web.Request) -> web.Response:
    question = request.query.get("q", "").strip()
    if not question:
        return web.json_response({"error": "ask with ?q=QUESTION"}, status=400)
    return web.json_response(try_question(_console(request).bot.live.current.matcher, question).to_json())


# -- edits


def _operation(form: Any) -> Operation:
    kind = str(form.get("op", ""))
    if kind == "add-variant":
        return AddVariant(str(form.get("fact_id", "")).strip(), str(form.get("question", "")))
    if kind == "new-fact":

        def lines(name: str) -> list[str]:
            return [line.strip() for line in str(form.get(name, "")).splitlines() if line.strip()]

        return NewFact(
            file=str(form.get("file", "")),
            fact_id=str(form.get("fact_id", "")).strip(),
            topic=str(form.get("topic", "")).strip(),
            timestamp=str(form.get("timestamp", "")).strip(),
            speaker=str(form.get("speaker", "")).strip() or None,
            questions={"en": lines("questions_en"), "zh": lines("questions_zh")},
            answer={
                "en": str(form.get("answer_en", "")).strip(),
                "zh": str(form.get("answer_zh", "")).strip(),
            },
        )
    raise web.HTTPBadRequest(text="unknown edit")


def _fields(form: Any) -> list[tuple[str, str]]:
    return [(key, str(value)) for key, value in form.items() if key != "csrf"]


async def edit_preview(request: web.Request) -> web.Response:
    console = _console(request)
    form = await request.post()
    operation = _operation(form)
    change: Change | None = None
    error: EditError | None = None
    try:
        change = await asyncio.to_thread(console.editor.preview, operation, console.knowledge)
    except EditError as failed:
        error = failed
    status = 200 if error is None else 422
    return await _render(
        request,
        "preview.html",
        status=status,
        change=change,
        error=error,
        fields=_fields(form),
        operation=operation,
    )


async def edit_save(request: web.Request) -> web.Response:
    console = _console(request)
    form = await request.post()
    operation = _operation(form)
    try:
        change = await asyncio.to_thread(console.editor.save, operation, console.knowledge)
    except EditError as error:
        return await _render(
            request,
            "preview.html",
            status=422,
            change=None,
            error=error,
            fields=_fields(form),
            operation=operation,
        )
    curator = _session(request).curator
    now = console.clock()
    if console.records is not None:
        await console.call(
            console.records.record_edit,
            now,
            curator,
            operation.action,
            change.file,
            change.fact_id,
            operation.summary(),
            change.diff,
        )
        review_question = str(form.get("review_question", ""))
        if review_question:
            await console.call(
                console.records.record_review, now, curator, review_question, "moved", change.fact_id
            )
    log.info("curator edit: %s in %s", operation.action, change.file)
    failed = await console.bot.live.reload_off_loop()
    if failed is not None:
        log.error("the saved edit did not reload: %s", failed)
    question = (
        operation.question
        if isinstance(operation, AddVariant)
        else operation.questions.get("en", [""])[0]
        if operation.questions.get("en")
        else ""
    )
    raise web.HTTPSeeOther("/try?" + urlencode({"q": question, "saved": change.fact_id}))


async def edits_page(request: web.Request) -> web.Response:
    console = _console(request)
    edits = await console.call(console.records.edits, 100, default=[]) if console.records else []
    return await _render(request, "edits.html", edits=edits)


async def api_edits(request: web.Request) -> web.Response:
    console = _console(request)
    edits = await console.call(console.records.edits, 100, default=[]) if console.records else []
    return web.json_response({"edits": [edit.to_json() for edit in edits]})


async def new_fact_page(request: web.Request) -> web.Response:
    console = _console(request)
    question = request.query.get("question", "").strip()
    language = detect_language(question) if question else "en"
    near = request.query.get("near", "")
    knowledge = console.knowledge
    near_fact = knowledge.facts.get(near)
    files = console.editor.facts_files(knowledge)
    return await _render(
        request,
        "new_fact.html",
        question=question,
        language=language,
        files=files,
        file=knowledge.fact_files.get(near, files[0] if files else ""),
        topic=near_fact.topic if near_fact else "",
        timestamp=near_fact.timestamp if near_fact else "",
        speaker=near_fact.speaker if near_fact and near_fact.speaker else "",
    )


def _url_quote(value: str) -> str:
    return quote(value, safe="")


def make_app(console: Console) -> web.Application:
    app = web.Application(middlewares=[_security], client_max_size=256 * 1024)
    app[CONSOLE] = console
    environment = aiohttp_jinja2.setup(
        app,
        loader=jinja2.FileSystemLoader(HERE / "templates"),
        autoescape=jinja2.select_autoescape(["html"], default=True),
        undefined=jinja2.StrictUndefined,
    )
    environment.filters["urlquote"] = _url_quote
    environment.globals["quote"] = _url_quote
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/login", login_page)
    app.router.add_post("/login", login)
    app.router.add_post("/logout", logout)
    app.router.add_get("/", overview)
    app.router.add_get("/gaps", gaps)
    app.router.add_get("/review", review)
    app.router.add_post("/review", review_mark)
    app.router.add_get("/facts", facts)
    app.router.add_get("/facts/new", new_fact_page)
    app.router.add_get("/facts/{fact_id:.+}", fact_page)
    app.router.add_get("/try", try_page)
    app.router.add_get("/edits", edits_page)
    app.router.add_post("/edits/preview", edit_preview)
    app.router.add_post("/edits/save", edit_save)
    app.router.add_get("/api/stats", api_stats)
    app.router.add_get("/api/gaps", api_gaps)
    app.router.add_get("/api/review", api_review)
    app.router.add_get("/api/facts", api_facts)
    app.router.add_get("/api/facts/{fact_id:.+}", api_fact)
    app.router.add_get("/api/try", api_try)
    app.router.add_get("/api/edits", api_edits)
    app.router.add_static("/static/", HERE / "static")
    return app
