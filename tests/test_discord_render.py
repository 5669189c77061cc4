"""Replies as Discord embeds and buttons: every Discord limit holds, nothing is lost, clicks decode."""

from __future__ import annotations

import discord

from adapters.discord.commands import build_tree
from adapters.discord.components import CustomIds
from adapters.discord.render import render
from bot.commands import COMMANDS
from bot.replies import Button, KeyValue, Reply, Section


def _words(count: int, word: str = "chip") -> str:
    return " ".join(f"{word}{n}" for n in range(count))


def _assert_within_limits(embed: discord.Embed) -> None:
    data = embed.to_dict()
    assert len(data.get("title", "")) <= 256
    assert len(data.get("description", "")) <= 4096
    assert len(data.get("fields", [])) <= 25
    for field in data.get("fields", []):
        assert 0 < len(field["name"]) <= 256
        assert 0 < len(field["value"]) <= 1024
    assert len(data.get("footer", {}).get("text", "")) <= 2048
    assert len(embed) <= 6000


def test_a_huge_reply_is_split_within_every_limit_and_keeps_all_its_text() -> None:
    reply = Reply(
        kind="digest",
        title="T" * 300,
        sections=[Section(heading=f"Part {n}", text=_words(2500, f"w{n}x")) for n in range(4)],
        fields=[KeyValue(name=f"field {n}", value=_words(300, f"f{n}x")) for n in range(30)],
        source="S" * 3000,
        buttons=[Button(label=f"question {n} " + "x" * 100, action="ask", value=f"q{n}") for n in range(30)],
    )
    sent = render(reply)

    assert len(sent) > 1
    for message in sent:
        assert 1 <= len(message.embeds) <= 10
        assert sum(len(embed) for embed in message.embeds) <= 6000
        for embed in message.embeds:
            _assert_within_limits(embed)
    assert all(not message.buttons for message in sent[:-1])
    assert len(sent[-1].buttons) == 25

    embeds = [embed.to_dict() for message in sent for embed in message.embeds]
    text = " ".join(e.get("description", "") for e in embeds) + " ".join(
        f["value"] for e in embeds for f in e.get("fields", [])
    )
    for n in range(4):
        assert f"w{n}x0 " in text
        assert f"w{n}x2499" in text
    for n in range(30):
        assert f"f{n}x299" in text
    assert embeds[0]["title"].endswith("…")
    assert embeds[-1]["footer"]["text"].endswith("…")


def test_an_answer_is_one_embed_with_its_source_in_the_footer() -> None:
    reply = Reply(
        kind="answer",
        sections=[Section(text="Graviton5 has 192 cores.")],
        source="Keynote 12:34",
        buttons=[
            Button(label="👍", action="feedback_up", value="g5"),
            Button(label="👎", action="feedback_down", value="g5"),
        ],
    )
    [message] = render(reply)
    [embed] = message.embeds

    assert embed.description == "Graviton5 has 192 cores."
    assert embed.footer.text == "Keynote 12:34"
    assert [b.value for b in message.buttons] == ["g5", "g5"]


def test_markdown_in_answers_is_shown_literally_and_suggestions_are_listed() -> None:
    reply = Reply(
        kind="abstain",
        language="zh",
        sections=[Section(text="不知道")],
        suggestions=["what is *S3_Vectors*?"],
    )
    [message] = render(reply)

    description = message.embeds[0].description or ""
    assert "你是不是想问：" in description
    assert r"\*S3\_Vectors\*" in description


def test_short_values_fit_custom_ids_and_long_ones_go_through_a_bounded_map() -> None:
    ids = CustomIds(capacity=2)
    short = ids.encode("ask", "how many cores does Graviton5 have?")
    assert short == "kb:ask:how many cores does Graviton5 have?"
    assert ids.decode(short) is not None

    long_values = [f"{n} " + "very long question " * 8 for n in range(3)]
    encoded = [ids.encode("ask", value) for value in long_values]
    assert all(len(custom_id) <= 100 for custom_id in encoded)
    decoded = [ids.decode(custom_id) for custom_id in encoded]
    assert [click.value if click else "?" for click in decoded] == [None, long_values[1], long_values[2]]
    assert all(click is not None and click.action == "ask" for click in decoded)


def test_foreign_and_malformed_custom_ids_are_not_ours() -> None:
    ids = CustomIds()
    assert ids.decode("other-bot:ask:x") is None
    assert ids.decode("kb:delete_everything:x") is None
    assert ids.decode("kb") is None
    click = ids.decode("kb:launch:graviton5:extra")
    assert click is not None
    assert (click.action, click.value) == ("launch", "graviton5:extra")


async def test_views_are_rendered_stopped_with_unique_custom_ids_and_short_labels() -> None:
    ids = CustomIds()
    buttons = [
        Button(label="L" * 120, action="ask", value="same"),
        Button(label="dup", action="ask", value="same"),
    ]
    view = ids.view(buttons)

    assert view is not None
    assert view.is_finished()
    [row] = view.to_components()
    [button] = row["components"]
    assert button["custom_id"] == "kb:ask:same"
    assert len(button["label"]) == 80
    assert ids.view([]) is None


def test_the_discord_command_tree_is_the_command_tables_slash_commands() -> None:
    client = discord.Client(intents=discord.Intents.none())

    async def handle(interaction: discord.Interaction, name: str, text: str) -> None: ...

    tree = build_tree(client, handle, lambda prefix: [])
    registered = [command.to_dict(tree) for command in tree.get_commands()]
    slash = [c for c in COMMANDS if c.option is not None]
    assert [r["name"] for r in registered] == [c.name for c in slash]
    for payload, command in zip(registered, slash, strict=True):
        assert command.option is not None
        assert payload["description"] == command.description
        [option] = payload["options"]
        assert option["name"] == command.option.name
        assert option["description"] == command.option.description
        assert option.get("autocomplete", False) == command.option.autocomplete_launches
