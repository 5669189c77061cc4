"""`python -m bot ask --json`: the contract the evaluation script relies on."""

from __future__ import annotations

import json

from tests.conftest import run_bot

KEYS = {
    "question",
    "answered",
    "answer",
    "fact_id",
    "score",
    "suggestions",
    "language",
    "small_talk",
    "follow_up",
}


def ask_json(lines: list[str]) -> list[dict[str, object]]:
    run = run_bot("ask", "--json", stdin="".join(line + "\n" for line in lines))
    assert run.returncode == 0, run.stderr
    return [json.loads(line) for line in run.stdout.splitlines()]


def test_one_json_object_per_line_in_order() -> None:
    lines = [
        "How many cores does Graviton5 have?",
        "",
        "   ",
        "Graviton5有多少个核心？",
        "How many cores does Graviton6 have?",
        "x" * 40_000,
        "tell me a joke",
    ]
    records = ask_json(lines)
    assert len(records) == len(lines)
    assert [r["question"] for r in records] == lines
    for record in records:
        assert set(record) == KEYS
        assert isinstance(record["score"], float) and 0.0 <= record["score"] <= 1.0
        assert isinstance(record["suggestions"], list)
    english, empty, blank, chinese, graviton6, long, joke = records
    assert english["answered"] is True and "192" in str(english["answer"])
    assert english["fact_id"] == "graviton5-cores" and english["language"] == "en"
    assert chinese["answered"] is True and "192" in str(chinese["answer"]) and chinese["language"] == "zh"
    for record in (empty, blank, long, joke):
        assert record["answered"] is False and record["answer"] == "" and record["fact_id"] is None
    assert graviton6["answered"] is False
    suggestions = graviton6["suggestions"]
    assert isinstance(suggestions, list) and "How many cores does Graviton5 have?" in suggestions
