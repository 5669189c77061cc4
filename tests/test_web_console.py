"""The curators' console over HTTP: access, CSRF, escaping, the JSON API, and safe edits."""

from __future__ import annotations

import asyncio
import re
import threading
from pathlib import Path

import aiohttp
import pytest

from adapters.web.auth import is_loopback
from bot.curation.edits import AddVariant, EditError, Editor, NewFact
from bot.curation.records import Records
from knowledge.loader import load_knowledge
from tests.conftest import run_bot
from tests.persistence import db_url_fixture  # noqa: F401  (fixture)
from tests.web import MISSED, TOKEN, running_console, seed

BEARER = {"Authorization": f"Bearer {TOKEN}"}


async def signed_in(session: aiohttp.ClientSession, url: str) -> tuple[dict[str, str], str]:
    """The session cookie header from the login form, and the page's CSRF token."""
    async with session.post(
        url + "/login", data={"curator": "Grace", "token": TOKEN}, allow_redirects=False
    ) as resp:
        assert resp.status == 303
        cookie = resp.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "Secure" in cookie and "SameSite=Strict" in cookie
    headers = {"Cookie": cookie.split(";")[0]}
    async with session.get(url + "/gaps", headers=headers) as resp:
        page = await resp.text()
    found = re.search(r'name="csrf" value="([0-9a-f]+)"', page)
    assert found
    return headers, found.group(1)


async def test_healthz_answers_without_signing_in(db_url: str, tmp_path: Path) -> None:
    async with running_console(db_url, tmp_path) as console, aiohttp.ClientSession() as session:
        async with session.get(console.url + "/healthz") as resp:
            assert resp.status == 200 and (await resp.json())["ok"] is True
        async with session.get(console.url + "/api/stats") as resp:
            assert resp.status == 401
        async with session.get(console.url + "/api/stats", headers={"Authorization": "Bearer wrong"}) as resp:
            assert resp.status == 401
        async with session.get(console.url + "/gaps", allow_redirects=False) as resp:
            assert resp.status == 303 and resp.headers["Location"].startswith("/login")


async def test_the_json_api_serves_stats_gaps_facts_and_try(db_url: str, tmp_path: Path) -> None:
    async with running_console(db_url, tmp_path) as console, aiohttp.ClientSession(headers=BEARER) as session:
        await seed(console.bot, console.clock, console.recorder)
        async with session.get(console.url + "/api/stats") as resp:
            stats = await resp.json()
        assert stats["asked"] > 50 and stats["declined"] >= 10 and len(stats["days"]) == 30
        assert set(stats["platforms"]) >= {"slack", "discord"} and set(stats["languages"]) == {"en", "zh"}
        assert stats["top_facts"][0]["fact_id"] == "graviton5-cores"
        async with session.get(console.url + "/api/gaps") as resp:
            gaps = (await resp.json())["gaps"]
        questions = [gap["question"] for gap in gaps]
        assert MISSED in questions and not {"hi", "42", "thanks!"} & set(questions)
        beefy = gaps[questions.index(MISSED)]
        assert beefy["count"] == 3 and beefy["closest"][0]["fact_id"] == "graviton5-cores"
        async with session.get(console.url + "/api/facts", params={"q": "graviton5"}) as resp:
            facts = (await resp.json())["facts"]
        assert "graviton5-cores" in [fact["id"] for fact in facts]
        async with session.get(console.url + "/api/try", params={"q": MISSED}) as resp:
            trial = await resp.json()
        assert trial["answered"] is False and trial["considered"] == "graviton5-cores"
        assert trial["candidates"] and "coverage" in trial["signals"]


async def test_a_post_without_the_csrf_token_is_refused(db_url: str, tmp_path: Path) -> None:
    async with running_console(db_url, tmp_path) as console, aiohttp.ClientSession() as session:
        headers, csrf = await signed_in(session, console.url)
        edit = {"op": "add-variant", "fact_id": "graviton5-cores", "question": MISSED}
        for sent in (edit, {**edit, "csrf": "0" * 64}):
            async with session.post(
                console.url + "/edits/save", data=sent, headers=headers, allow_redirects=False
            ) as resp:
                assert resp.status == 403
        assert MISSED not in (console.directory / "graviton.yaml").read_text(encoding="utf-8")
        async with session.post(
            console.url + "/edits/save", data={**edit, "csrf": csrf}, headers=headers, allow_redirects=False
        ) as resp:
            assert resp.status == 303
        assert MISSED in (console.directory / "graviton.yaml").read_text(encoding="utf-8")
        assert "192" in (await console.bot.message(MISSED)).plain_text()
        edits = await console.storage.call(Records(console.storage).edits)
        assert edits and edits[0].curator == "Grace" and edits[0].fact_id == "graviton5-cores"


async def test_users_words_are_escaped(db_url: str, tmp_path: Path) -> None:
    async with running_console(db_url, tmp_path) as console, aiohttp.ClientSession() as session:
        await console.bot.message("<script>alert(1)</script> how fast is graviton9?")
        await console.bot.drain()
        headers, _ = await signed_in(session, console.url)
        async with session.get(console.url + "/gaps", headers=headers) as resp:
            page = await resp.text()
        assert "<script>alert(1)</script>" not in page
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
        assert "script-src 'self'" in resp.headers["Content-Security-Policy"]


def test_web_refuses_to_serve_beyond_loopback_without_a_token() -> None:
    result = run_bot("web", env={"WEB_HOST": "0.0.0.0"})
    assert result.returncode == 2
    assert "WEB_TOKEN" in result.stderr


def test_loopback_hosts() -> None:
    assert is_loopback("127.0.0.1") and is_loopback("::1") and is_loopback("localhost")
    assert not is_loopback("0.0.0.0") and not is_loopback("10.1.2.3")


def _knowledge_copy(tmp_path: Path) -> Path:
    import shutil

    from knowledge.loader import BUNDLED_DIR

    directory = tmp_path / "knowledge"
    shutil.copytree(BUNDLED_DIR, directory)
    return directory


def test_two_curators_saving_one_file_at_once_keep_both_changes(tmp_path: Path) -> None:
    directory = _knowledge_copy(tmp_path)
    knowledge = load_knowledge(directory)
    editor = Editor(directory)
    barrier = threading.Barrier(2)
    errors: list[BaseException] = []

    def save(question: str) -> None:
        barrier.wait()
        try:
            Editor(directory).save(AddVariant("graviton5-cores", question), knowledge)
        except BaseException as error:  # pragma: no cover - reported below
            errors.append(error)

    threads = [threading.Thread(target=save, args=(q,)) for q in (MISSED, "graviton5 core budget")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert errors == []
    text = (directory / "graviton.yaml").read_text(encoding="utf-8")
    assert MISSED in text and "graviton5 core budget" in text
    assert editor.facts_files(load_knowledge(directory))


def test_an_edit_keeps_comments_and_layout_and_invalid_edits_are_not_written(tmp_path: Path) -> None:
    directory = _knowledge_copy(tmp_path)
    knowledge = load_knowledge(directory)
    path = directory / "graviton.yaml"
    before = path.read_text(encoding="utf-8")
    change = Editor(directory).save(AddVariant("graviton5-cores", "Graviton5 核心预算是多少？"), knowledge)
    after = path.read_text(encoding="utf-8")
    added = [line for line in change.diff.splitlines() if line.startswith("+") and not line.startswith("+++")]
    assert added == ["+        - Graviton5 核心预算是多少？"]
    assert after.splitlines()[:2] == before.splitlines()[:2]  # the schema comment and the section comment
    assert len(after.splitlines()) == len(before.splitlines()) + 1
    bad = NewFact(
        file="graviton.yaml",
        fact_id="graviton5-threads",
        topic="graviton",
        timestamp="nine o'clock",
        questions={"en": ["How many threads does Graviton5 run?"], "zh": ["Graviton5有多少线程？"]},
        answer={"en": "Many.", "zh": "很多。"},
    )
    with pytest.raises(EditError) as refused:
        Editor(directory).save(bad, load_knowledge(directory))
    assert any("timestamp" in problem for problem in refused.value.problems)
    assert path.read_text(encoding="utf-8") == after
    good = NewFact(**{**bad.__dict__, "timestamp": "30:00"})
    Editor(directory).save(good, load_knowledge(directory))
    assert "graviton5-threads" in load_knowledge(directory).facts


async def test_every_question_is_recorded_in_the_background(db_url: str, tmp_path: Path) -> None:
    async with running_console(db_url, tmp_path) as console:
        await asyncio.gather(
            *(console.bot.message(q) for q in ["hi", MISSED, "how many cores does graviton5 have?"])
        )
        await console.recorder.drain()
        rows = await console.storage.call(
            Records(console.storage).asked_since, console.clock.now.replace(year=2000)
        )
        assert rows is not None
        assert sorted(row.outcome for row in rows) == ["answered", "declined", "small_talk"]
