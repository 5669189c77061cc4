"""`python -m bot ask --json`: the contract the evaluation script relies on."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from tests.conftest import CLI_CWD, run_bot

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
    "pack",
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


def test_invalid_utf8_is_replaced_and_the_lines_after_it_are_answered() -> None:
    run = subprocess.run(
        [sys.executable, "-m", "bot", "ask", "--json"],
        input=b"ok\n\xff\nhow many cores does graviton5 have\n",
        capture_output=True,
        cwd=CLI_CWD,
        env={**os.environ, "PYTHONIOENCODING": "utf-8:strict"},
        timeout=60,
    )
    assert run.returncode == 0, run.stderr.decode()
    records = [json.loads(line) for line in run.stdout.decode("utf-8").splitlines()]
    assert [r["question"] for r in records] == ["ok", "\ufffd", "how many cores does graviton5 have"]
    assert records[2]["answered"] is True and "192" in str(records[2]["answer"])


def ask_conversations(turns: list[tuple[str, str]]) -> list[dict[str, object]]:
    stdin = "".join(json.dumps({"conversation": c, "question": q}) + "\n" for c, q in turns)
    run = run_bot("ask", "--json", "--conversations", stdin=stdin)
    assert run.returncode == 0, run.stderr
    return [json.loads(line) for line in run.stdout.splitlines()]


def test_conversation_lines_follow_up_within_one_id_and_never_across_ids() -> None:
    records = ask_conversations(
        [
            ("a", "how many chips in a Trainium3 UltraServer?"),
            ("b", "how many cores does Graviton5 have?"),
            ("a", "what about its memory bandwidth?"),
            ("b", "and the L3 cache per core?"),
            ("c", "what about its memory bandwidth?"),
        ]
    )
    first, other, follow_up, other_follow_up, stranger = records
    assert first["fact_id"] == "trn3-ultraserver-chips" and other["fact_id"] == "graviton5-cores"
    assert (
        follow_up["answered"] is True and "700" in str(follow_up["answer"]) and follow_up["follow_up"] is True
    )
    assert other_follow_up["answered"] is True and "2.6" in str(other_follow_up["answer"])
    assert stranger["answered"] is False, "a conversation never borrows another conversation's topic"


def test_a_malformed_conversation_line_gets_an_error_and_the_rest_are_answered() -> None:
    run = run_bot(
        "ask", "--json", "--conversations", stdin='not json\n{"conversation": 1, "question": "hi"}\n'
    )
    assert run.returncode == 0, run.stderr
    broken, greeting = (json.loads(line) for line in run.stdout.splitlines())
    assert broken["answered"] is False and "line 1" in str(broken["error"])
    assert greeting["small_talk"] is True and greeting["answered"] is False
