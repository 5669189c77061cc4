"""Chat markup, full-width text, emoji and punctuation must not change what a question asks."""

from __future__ import annotations

import pytest

from knowledge.normalize import compact, han_terms, stem, strip_markup, term_of, words


def texts(question: str) -> list[str]:
    return [token.text for token in words(question)]


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("<@U12345> graviton5 cores", ["graviton5", "cores"]),
        ("<@!4242> graviton5 cores", ["graviton5", "cores"]),
        ("<@&99> <#C0123|general> graviton5 cores", ["graviton5", "cores"]),
        ("<!here> graviton5 cores", ["graviton5", "cores"]),
        ("<!subteam^S1|@infra> graviton5 cores", ["graviton5", "cores"]),
        ("@keynote-bot graviton5 cores", ["graviton5", "cores"]),
        ("<https://aws.amazon.com/ec2/graviton|Graviton5> cores", ["graviton5", "cores"]),
        ("see <https://example.com/x?y=1> graviton5 cores", ["see", "graviton5", "cores"]),
        ("graviton5 cores https://example.com/a/b?c=d www.example.org", ["graviton5", "cores"]),
        ("graviton5 :thumbsup: cores :+1:", ["graviton5", "cores"]),
        ("graviton5 <:party_parrot:123456> <a:dance:789> cores", ["graviton5", "cores"]),
        ("graviton5 🚀🔥 cores 👍🏽", ["graviton5", "cores"]),
        ("ＧＲＡＶＩＴＯＮ５　ｃｏｒｅｓ？", ["graviton5", "cores"]),
        ("graviton5 cores???!!!", ["graviton5", "cores"]),
        ("*graviton5* _cores_ `x`", ["graviton5", "cores", "x"]),
    ],
)
def test_markup_and_decoration_are_removed(raw: str, expected: list[str]) -> None:
    assert texts(raw) == expected


def test_timestamps_are_not_taken_for_emoji_codes() -> None:
    assert texts("what happened at 1:28:00") == ["what", "happened", "at", "1", "28", "00"]


def test_decimals_possessives_and_cplusplus_survive() -> None:
    assert texts("Graviton5's 2.6x L3 cache, C++ and Java.") == [
        "graviton5",
        "2.6x",
        "l3",
        "cache",
        "c++",
        "and",
        "java",
    ]


def test_han_runs_stay_whole_beside_latin_words() -> None:
    assert texts("Graviton4的L2缓存是多少？") == ["graviton4", "的", "l2", "缓存是多少"]


def test_han_terms_are_meaningful_characters_and_bigrams() -> None:
    terms = han_terms("缓存是多少")
    assert "缓存" in terms and "缓" in terms and "存" in terms
    assert "是" not in terms and "少" not in terms
    assert "存是" in terms


def test_names_are_flagged_as_proper_but_not_the_first_word_or_acronyms() -> None:
    flags = {token.text: token.proper for token in words("Can I run Lambda on Azure with TwelveLabs and NKI")}
    assert flags == {
        "can": False,
        "i": False,
        "run": False,
        "lambda": True,
        "on": False,
        "azure": True,
        "with": False,
        "twelvelabs": True,
        "and": False,
        "nki": False,
    }


@pytest.mark.parametrize(
    ("left", "right"),
    [("cores", "core"), ("vectors", "vector"), ("optimise", "optimize"), ("optimized", "optimizing")],
)
def test_inflections_fold_together(left: str, right: str) -> None:
    assert stem(left) == stem(right)


def test_everyday_synonyms_fold_onto_curated_words() -> None:
    assert term_of("cheaper") == term_of("cost")
    assert term_of("faster") == term_of("performance")
    assert term_of("graviton5") == "graviton5"


def test_compact_ignores_case_spaces_and_punctuation() -> None:
    assert compact("Graviton 5") == compact("graviton-5") == compact("GRAVITON5") == "graviton5"


def test_strip_markup_keeps_link_text_and_drops_mentions() -> None:
    assert strip_markup("<@U1> read <https://x.io|the docs>").split() == ["read", "the", "docs"]


def test_very_long_text_is_cut() -> None:
    assert len(strip_markup("a" * 40_000)) <= 1000
