"""Replies as Block Kit: escaping, and Slack's size limits met by splitting rather than by an API error."""

from __future__ import annotations

import re
from typing import Any

from adapters.slack.mrkdwn import escape, unescape
from adapters.slack.render import render
from bot.replies import Button, KeyValue, Reply, Section

ENTITY_OR_TEXT = re.compile(r"&(?!amp;|lt;|gt;)")


def all_blocks(reply: Reply) -> list[dict[str, Any]]:
    return [block for message in render(reply) for block in message.blocks]


def section_texts(reply: Reply) -> list[str]:
    return [b["text"]["text"] for b in all_blocks(reply) if b["type"] == "section" and "text" in b]


def test_escape_defuses_markup_and_broadcast_mentions() -> None:
    assert escape("<!channel> <@U123> a & b") == "&lt;!channel&gt; &lt;@U123&gt; a &amp; b"
    assert escape("@here @Channel ＠everyone") == "@\u200bhere @\u200bChannel ＠\u200beveryone"
    assert escape("@heretic and team@hereford") == "@heretic and team@hereford"
    assert unescape("&lt;b&gt; &amp;lt;") == "<b> &lt;"


def test_a_long_section_is_split_into_sections_within_3000_characters() -> None:
    words = [f"w{n}&<x>" for n in range(1500)]
    reply = Reply(kind="answer", sections=[Section(heading="Heading", text=" ".join(words))])

    texts = section_texts(reply)
    assert len(texts) > 3
    assert all(len(text) <= 3000 for text in texts)
    assert texts[0].startswith("*Heading*\n")
    assert not any(ENTITY_OR_TEXT.search(text) for text in texts)
    rejoined = unescape(" ".join(texts).removeprefix("*Heading*\n"))
    assert rejoined.split() == words


def test_a_reply_past_50_blocks_continues_in_follow_up_messages() -> None:
    reply = Reply(
        kind="digest",
        title="Digest",
        sections=[Section(text=f"line {n}") for n in range(120)],
        source="Keynote 28:00",
    )

    messages = render(reply)
    assert [len(m.blocks) for m in messages] == [50, 50, 22]
    assert [m.text.rsplit(" ", 1)[-1] for m in messages] == ["(1/3)", "(2/3)", "(3/3)"]
    shown = [b["text"]["text"] for m in messages for b in m.blocks if b["type"] == "section"]
    assert shown == [f"line {n}" for n in range(120)]
    assert messages[-1].blocks[-1]["type"] == "context"


def test_a_title_too_long_for_a_header_becomes_a_section() -> None:
    assert all_blocks(Reply(kind="launch", title="T" * 150))[0]["type"] == "header"

    blocks = all_blocks(Reply(kind="launch", title="T" * 151))
    assert blocks[0]["type"] == "section" and blocks[0]["text"]["text"] == "T" * 151


def test_button_labels_are_cut_to_75_characters_without_breaking_an_entity() -> None:
    label = "Is it true that R&D " + "&" * 100
    reply = Reply(kind="abstain", buttons=[Button(label=label, action="ask", value=label)])

    [actions] = [b for b in all_blocks(reply) if b["type"] == "actions"]
    [button] = actions["elements"]
    shown = button["text"]["text"]
    assert len(shown) <= 75 and shown.endswith("…")
    assert shown.startswith("Is it true that R&amp;D ")
    assert not ENTITY_OR_TEXT.search(shown.removesuffix("…"))
    assert button["value"] == label


def test_did_you_mean_buttons_and_feedback_buttons() -> None:
    reply = Reply(
        kind="abstain",
        language="zh",
        sections=[Section(text="主题演讲里没有找到这个问题的答案。")],
        buttons=[Button(label=f"问题{n}", action="ask", value=f"问题{n}") for n in range(30)],
    )
    blocks = all_blocks(reply)
    assert blocks[1] == {
        "type": "context",
        "elements": [{"type": "mrkdwn", "text": "你是不是想问：", "verbatim": True}],
    }
    actions = [b for b in blocks if b["type"] == "actions"]
    assert [len(a["elements"]) for a in actions] == [25, 5]
    ids = [e["action_id"] for a in actions for e in a["elements"]]
    assert ids == [f"ask:{n}" for n in range(30)]

    answer = Reply(
        kind="answer",
        sections=[Section(text="192 cores.")],
        source="Keynote 28:00",
        buttons=[
            Button(label="👍", action="feedback_up", value="graviton5-cores"),
            Button(label="👎", action="feedback_down", value="graviton5-cores"),
        ],
    )
    assert [b["type"] for b in all_blocks(answer)] == ["section", "context", "actions"]


def test_closest_launch_buttons_are_introduced_as_launches() -> None:
    reply = Reply(
        kind="error",
        sections=[Section(text="No launch called “x”.")],
        suggestions=["Graviton5"],
        buttons=[Button(label="Graviton5", action="launch", value="graviton5")],
    )
    blocks = all_blocks(reply)
    assert blocks[1]["elements"][0]["text"] == "Closest launches:"
    assert blocks[2]["elements"][0]["action_id"] == "launch:0"


def test_suggestions_without_buttons_are_listed() -> None:
    reply = Reply(
        kind="error", sections=[Section(text="Unknown command /x.")], suggestions=["/ask", "/launch"]
    )
    assert section_texts(reply)[1] == "• /ask\n• /launch"


def test_fields_fill_sections_of_ten_and_long_values_get_their_own_section() -> None:
    fields = [KeyValue(name=f"k{n}", value=f"v{n}") for n in range(12)]
    fields.append(KeyValue(name="Long", value="x " * 1500))
    blocks = all_blocks(Reply(kind="launch", fields=fields))

    assert [len(b.get("fields", [])) for b in blocks] == [10, 2, 0, 0]
    assert blocks[0]["fields"][0] == {"type": "mrkdwn", "text": "*k0*\nv0", "verbatim": True}
    assert blocks[2]["text"]["text"].startswith("*Long*\n")
    assert all(len(b["text"]["text"]) <= 3000 for b in blocks[2:])


def test_oversized_button_values_are_dropped_not_sent() -> None:
    reply = Reply(
        kind="abstain",
        buttons=[
            Button(label="ok", action="ask", value="ok"),
            Button(label="big", action="ask", value="q" * 2001),
        ],
    )
    [actions] = [b for b in all_blocks(reply) if b["type"] == "actions"]
    assert [e["value"] for e in actions["elements"]] == ["ok"]
