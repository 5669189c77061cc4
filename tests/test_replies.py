"""Splitting long replies for platform limits, and the plain-text form adapters fall back on."""

from __future__ import annotations

import pytest

from bot.replies import KeyValue, Reply, Section, split_text


def test_short_text_is_one_piece() -> None:
    assert split_text("hello", 10) == ["hello"]
    assert split_text("", 10) == [""]


def test_pieces_respect_the_limit_and_lose_no_words() -> None:
    text = "\n\n".join(f"paragraph {n} " + "word " * (n * 7) for n in range(40))
    pieces = split_text(text, 300)
    assert all(len(piece) <= 300 for piece in pieces)
    assert " ".join(" ".join(pieces).split()) == " ".join(text.split())


def test_prefers_paragraph_then_line_breaks() -> None:
    text = "a" * 60 + "\n\n" + "b" * 30 + "\n" + "c" * 30
    assert split_text(text, 100) == ["a" * 60, "b" * 30 + "\n" + "c" * 30]


def test_a_single_long_word_is_cut_hard() -> None:
    assert split_text("x" * 250, 100) == ["x" * 100, "x" * 100, "x" * 50]


def test_limit_must_be_positive() -> None:
    with pytest.raises(ValueError):
        split_text("text", 0)


def test_plain_text_has_every_part_in_order() -> None:
    reply = Reply(
        kind="launch",
        title="Title",
        sections=[Section(heading="Heading", text="Body")],
        fields=[KeyValue(name="Status", value="GA")],
        suggestions=["one?"],
        source="Keynote 1:00",
    )
    assert reply.plain_text() == "Title\n\nHeading\nBody\n\nStatus: GA\n\n• one?\n\nKeynote 1:00"
