"""Nothing of the bundled keynote is hard-coded: a made-up event's pack speaks only of that event.

The pack comes from `python -m bot new-pack` (then given a fact of its own), and every reply a user can
get (help, digest, launches, answers, "I don't know", small talk, the empty-question hint) is checked
as the console prints it and as Slack and Discord render it, with the console banner too.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from adapters.console.commands import banner
from adapters.discord.render import render as discord_render
from adapters.slack.render import render as slack_render
from bot.app import Bot
from bot.live import LiveKnowledge
from bot.replies import Reply
from knowledge.loader import load_knowledge
from tests.conftest import run_bot
from tests.fakes.slack import texts
from tests.packs import write_pack
from tests.test_packs import two_packs

BUNDLED_WORDS = (
    "re:Invent",
    "reInvent",
    "AWS",
    "Graviton",
    "Trainium",
    "Lambda",
    "Mantle",
    "S3 Vectors",
    "Nitro",
    "NKI",
    "DeSantis",
    "Dave Brown",
    "Apple",
    "TwelveLabs",
    "Decart",
    "trn3",
    "Peter",
)
MESSAGES = (
    "/help",
    "/digest",
    "/launch",
    "/launch nebula9",
    "how fast is nebula9?",
    "Nebula9有多快？",
    "how many cores does graviton5 have?",
    "hi",
    "你好",
    "/ask",
    "/digest chips",
)


@pytest.fixture
def galaxy(tmp_path: Path) -> Path:
    made = tmp_path / "galaxy"
    result = run_bot(
        "new-pack",
        str(made),
        "--id",
        "galaxy-devcon-2031",
        "--title",
        "Galaxy DevCon 2031 opening keynote",
        "--event",
        "Galaxy DevCon 2031",
    )
    assert result.returncode == 0, result.stderr
    write_pack(tmp_path / "nebula")
    (made / "nebula.yaml").write_text(
        (tmp_path / "nebula" / "facts.yaml")
        .read_text(encoding="utf-8")
        .replace("theme: chips", "theme: general"),
        encoding="utf-8",
    )
    return made


def bundled_words_in(text: str) -> list[str]:
    return [word for word in BUNDLED_WORDS if word.lower() in text.lower()]


def test_the_console_speaks_only_of_the_made_up_event(galaxy: Path) -> None:
    result = run_bot(stdin="".join(m + "\n" for m in MESSAGES), env={"KNOWLEDGE_DIR": str(galaxy)})
    assert result.returncode == 0, result.stderr
    assert bundled_words_in(result.stdout) == [], result.stdout
    assert "Galaxy DevCon 2031 keynote digest" in result.stdout
    assert "keynote-bot: ask me about the Galaxy DevCon 2031 keynote" in result.stdout
    assert "42 trillion" in result.stdout and "42万亿" in result.stdout
    shown = banner(load_knowledge(galaxy))
    assert "Galaxy DevCon 2031 opening keynote" in shown and bundled_words_in(shown) == []


async def replies(directory: Path) -> list[Reply]:
    bot = Bot(LiveKnowledge(directory))
    return [await bot.message(message) for message in MESSAGES]


async def test_slack_and_discord_renderings_speak_only_of_the_made_up_event(galaxy: Path) -> None:
    for reply in await replies(galaxy):
        slack = "\n".join(
            text
            for message in slack_render(reply)
            for text in texts({"text": message.text, "blocks": message.blocks})
        )
        assert bundled_words_in(slack) == [], slack
        embeds = [embed.to_dict() for part in discord_render(reply) for embed in part.embeds]
        discord_text = json.dumps(embeds, ensure_ascii=False)
        labels = [button.label for part in discord_render(reply) for button in part.buttons]
        assert bundled_words_in(discord_text + " ".join(labels)) == [], discord_text


async def test_two_packs_name_the_keynote_in_answers_and_cover_both_in_launch_and_digest(
    tmp_path: Path,
) -> None:
    bot = Bot(LiveKnowledge(two_packs(tmp_path)))
    nebula = (await bot.message("how fast is nebula9?")).plain_text()
    comet = (await bot.message("how fast is comet7?")).plain_text()
    assert "42 trillion" in nebula and "Galaxy DevCon 2031 opening keynote 12:00 · Ada Quill" in nebula
    assert "7 trillion" in comet and "Orbit Summit 2030 keynote 12:00 · Bo Lind" in comet
    launches = (await bot.message("/launch")).plain_text()
    assert "Nebula9" in launches and "Comet7" in launches
    assert (
        "Galaxy DevCon 2031 opening keynote · Chips" in launches
        and "Orbit Summit 2030 keynote · Chips" in launches
    )
    assert "Comet7" in (await bot.message("/launch comet 7")).plain_text()
    digest = (await bot.message("/digest")).plain_text()
    order = [
        "Galaxy DevCon 2031 opening keynote · Chips",
        "Nebula9",
        "Orbit Summit 2030 keynote · Chips",
        "Comet7",
    ]
    assert [digest.index(part) for part in order] == sorted(digest.index(part) for part in order), digest
    one = (await bot.message("/digest orbit summit 2030")).plain_text()
    assert "Comet7" in one and "Nebula9" not in one
    declined = await bot.message("what did they say about quasars?")
    assert "I don't know that from these keynotes." in declined.plain_text()
