"""The bundled knowledge files meet the curation standard the matcher and the cards rely on."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from knowledge.loader import BUNDLED_DIR, PACK_FILE, Knowledge, knowledge_files
from knowledge.models import KnowledgeFile, Pack

SCHEMA_COMMENT = "# yaml-language-server: $schema=../../schema.json"
CJK = re.compile(r"[\u3400-\u9fff]")

# Who is on stage when, from the seed's timeline; facts carry the speaker of their moment.
SPEAKERS: list[tuple[str, str, str]] = [
    ("0:00", "15:00", "Peter DeSantis"),
    ("15:00", "35:00", "Dave Brown"),
    ("35:00", "45:00", "Payam Mirrashidi"),
    ("45:00", "1:30:00", "Peter DeSantis"),
    ("1:30:00", "1:42:00", "Jae Lee"),
    ("1:42:00", "2:10:00", "Peter DeSantis"),
    ("2:10:00", "2:20:00", "Dean Leitersdorf"),
    ("2:20:00", "2:25:00", "Peter DeSantis"),
]


def seconds(timestamp: str) -> int:
    total = 0
    for part in timestamp.split(":"):
        total = total * 60 + int(part)
    return total


def key(text: str) -> str:
    return re.sub(r"\s+", " ", text.casefold()).strip()


@pytest.mark.parametrize("path", knowledge_files(BUNDLED_DIR), ids=lambda p: p.name)
def test_each_file_is_valid_on_its_own_and_points_editors_at_the_schema(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    assert text.splitlines()[0] == SCHEMA_COMMENT
    if path.name == PACK_FILE:
        assert Pack.model_validate(yaml.safe_load(text)).id == "reinvent-2025-infrastructure"
        return
    parsed = KnowledgeFile.model_validate(yaml.safe_load(text))
    assert parsed.facts or parsed.launches


def test_every_fact_has_enough_question_variants(knowledge: Knowledge) -> None:
    thin = [
        f"{fact.id}: {len(fact.questions.en)} en, {len(fact.questions.zh)} zh"
        for fact in knowledge.facts.values()
        if len(fact.questions.en) < 4 or len(fact.questions.zh) < 3
    ]
    assert thin == []


def test_canonical_questions_are_clean_questions(knowledge: Knowledge) -> None:
    unclean = []
    for fact in knowledge.facts.values():
        en, zh = fact.canonical_question("en"), fact.canonical_question("zh")
        if not (en[0].isupper() and en.endswith("?")):
            unclean.append(f"{fact.id}: {en}")
        if not (zh.endswith("？") and CJK.search(zh)):
            unclean.append(f"{fact.id}: {zh}")
    assert unclean == []


def test_no_question_variant_is_repeated_within_or_across_facts(knowledge: Knowledge) -> None:
    owner: dict[str, str] = {}
    repeated = []
    for fact in knowledge.facts.values():
        for language in ("en", "zh"):
            variants = [key(v) for v in fact.questions.get(language)]
            if len(variants) != len(set(variants)):
                repeated.append(f"{fact.id} repeats a {language} variant")
        for variant in {key(v) for v in fact.questions.en + fact.questions.zh}:
            previous = owner.setdefault(variant, fact.id)
            if previous != fact.id:
                repeated.append(f"{variant!r}: {previous} and {fact.id}")
    assert repeated == []


def test_answers_are_in_their_language(knowledge: Knowledge) -> None:
    wrong = []
    for fact in knowledge.facts.values():
        outside_parentheses = re.sub(r"\([^)]*\)", "", fact.answer.en)
        if CJK.search(outside_parentheses):
            wrong.append(f"{fact.id}: Chinese outside parentheses in the English answer")
        if not CJK.search(fact.answer.zh):
            wrong.append(f"{fact.id}: the Chinese answer has no Chinese")
    assert wrong == []


def test_speakers_match_who_was_on_stage(knowledge: Knowledge) -> None:
    wrong = []
    for fact in knowledge.facts.values():
        at = seconds(fact.timestamp)
        [expected] = [name for start, end, name in SPEAKERS if seconds(start) <= at < seconds(end)]
        if fact.speaker != expected:
            wrong.append(f"{fact.id} at {fact.timestamp}: {fact.speaker}, expected {expected}")
    assert wrong == []


def test_every_theme_of_the_pack_has_a_launch(knowledge: Knowledge) -> None:
    themes = {launch.theme for launch in knowledge.launches.values()}
    assert themes == {theme.id for theme in knowledge.first_pack.themes}


def test_launch_texts_are_complete_in_both_languages(knowledge: Knowledge) -> None:
    incomplete = []
    for launch in knowledge.launches.values():
        for name, text in (
            ("status_note", launch.status_note),
            ("summary", launch.summary),
            ("details", launch.details),
        ):
            if not (text.en.strip() and CJK.search(text.zh)):
                incomplete.append(f"{launch.id}: {name}")
        if "\n" in launch.summary.en or len(launch.summary.en) >= len(launch.details.en):
            incomplete.append(f"{launch.id}: the summary should be one line, shorter than the details")
    assert incomplete == []


def test_status_notes_say_when(knowledge: Knowledge) -> None:
    undated = []
    for launch in knowledge.launches.values():
        years = ("2026",) if launch.status == "coming" else ("2025", "2026")
        for language, note in (("en", launch.status_note.en), ("zh", launch.status_note.zh)):
            if not any(year in note for year in years):
                undated.append(f"{launch.id} ({launch.status}) {language}: {note}")
    assert undated == []


def test_launches_lead_with_a_fact_that_names_them(knowledge: Knowledge) -> None:
    unnamed = []
    for launch in knowledge.launches.values():
        first = knowledge.facts[launch.facts[0]]
        names = [key(n) for n in (launch.name, *launch.aliases)]
        if not any(name in key(first.answer.en) for name in names):
            unnamed.append(f"{launch.id}: {first.id}")
        if seconds(launch.timestamp) not in {seconds(f.timestamp) for f in knowledge.launch_facts(launch)}:
            unnamed.append(f"{launch.id}: no fact at the launch's timestamp {launch.timestamp}")
    assert unnamed == []


def test_launch_names_and_aliases_identify_one_launch(knowledge: Knowledge) -> None:
    owner: dict[str, str] = {}
    clashes = []
    for launch in knowledge.launches.values():
        for name in (launch.name, *launch.aliases):
            previous = owner.setdefault(key(name), launch.id)
            if previous != launch.id:
                clashes.append(f"{name!r}: {previous} and {launch.id}")
    assert clashes == []


def test_launch_customers_are_ones_the_facts_mention(knowledge: Knowledge) -> None:
    answers = " ".join(f"{f.answer.en} {f.answer.zh}" for f in knowledge.facts.values())
    unknown = [
        f"{launch.id}: {customer}"
        for launch in knowledge.launches.values()
        for customer in launch.customers
        if customer not in answers
    ]
    assert unknown == []


def test_a_launch_without_a_said_availability_is_not_called_available(knowledge: Knowledge) -> None:
    for launch in knowledge.launches.values():
        if "no availability" in launch.status_note.en or "no separate availability" in launch.status_note.en:
            assert launch.status == "announced", f"{launch.id} is {launch.status} but {launch.status_note.en}"
