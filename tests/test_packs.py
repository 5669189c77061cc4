"""Knowledge packs: a pack.yaml per keynote, several packs at once, and errors a curator can act on."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from knowledge.loader import BUNDLED_DIR, KnowledgeError, load_knowledge
from knowledge.matcher import Matcher
from tests.conftest import run_bot
from tests.packs import write_pack


def problems(directory: Path) -> list[str]:
    with pytest.raises(KnowledgeError) as caught:
        load_knowledge(directory)
    return [str(problem) for problem in caught.value.problems]


def test_a_pack_describes_its_keynote(tmp_path: Path) -> None:
    knowledge = load_knowledge(write_pack(tmp_path / "galaxy"))
    [pack] = knowledge.packs.values()
    assert pack.title.en == "Galaxy DevCon 2031 opening keynote" and pack.event == "Galaxy DevCon 2031"
    assert [theme.id for theme in pack.themes] == ["chips", "tools"]
    assert knowledge.pack_of_fact("speed") is pack and knowledge.pack_of_launch("nebula9") is pack


def test_the_bundled_knowledge_is_one_pack() -> None:
    knowledge = load_knowledge(BUNDLED_DIR)
    assert list(knowledge.packs) == ["reinvent-2025-infrastructure"]
    assert knowledge.first_pack.event == "AWS re:Invent 2025"


def test_a_launch_theme_must_be_one_of_the_packs_themes(tmp_path: Path) -> None:
    pack = write_pack(tmp_path)
    facts = pack / "facts.yaml"
    facts.write_text(
        facts.read_text(encoding="utf-8").replace("theme: chips", "theme: chip"), encoding="utf-8"
    )
    [problem] = problems(pack)
    assert problem.startswith("error: facts.yaml:16: nebula9: theme: unknown theme 'chip'")
    assert "chips, tools" in problem


def test_a_fact_topic_must_be_one_of_the_packs_topics(tmp_path: Path) -> None:
    pack = write_pack(tmp_path)
    facts = pack / "facts.yaml"
    facts.write_text(
        facts.read_text(encoding="utf-8").replace("topic: nebula9", "topic: nebual9"), encoding="utf-8"
    )
    [problem] = problems(pack)
    assert problem.startswith("error: facts.yaml:3: speed: topic: unknown topic 'nebual9'")


def test_an_unquoted_timestamp_gets_a_hint_to_quote_it(tmp_path: Path) -> None:
    pack = write_pack(tmp_path)
    facts = pack / "facts.yaml"
    facts.write_text(facts.read_text(encoding="utf-8").replace('timestamp: "12:00"', "timestamp: 28:00", 1))
    [problem] = problems(pack)
    assert problem.startswith("error: facts.yaml:4: speed: timestamp: ")
    assert 'quote it, timestamp: "28:00"' in problem


def test_a_bad_id_is_explained_in_words(tmp_path: Path) -> None:
    pack = write_pack(tmp_path)
    facts = pack / "facts.yaml"
    facts.write_text(facts.read_text(encoding="utf-8").replace("id: speed", "id: Speed_1"))
    reported = problems(pack)
    assert any(
        p.startswith(
            "error: facts.yaml:2: Speed_1: id: 'Speed_1' is not a valid id: an id is lowercase letters"
        )
        for p in reported
    ), reported


def test_pack_yaml_errors_have_lines_and_everything_is_reported_in_one_pass(tmp_path: Path) -> None:
    pack = write_pack(tmp_path)
    (pack / "pack.yaml").write_text(
        (pack / "pack.yaml").read_text(encoding="utf-8").replace("event: Galaxy DevCon 2031\n", ""),
        encoding="utf-8",
    )
    (pack / "more.yaml").write_text(
        "facts:\n  - id: broken\n    topic: nebula9\n"
        "launches:\n  - id: ghostly\n    name: Ghost\n    theme: chips\n    status: announced\n"
        "    status_note: {en: x, zh: x}\n    timestamp: '1:00'\n    summary: {en: x, zh: x}\n"
        "    details: {en: x, zh: x}\n    facts: [nowhere]\n",
        encoding="utf-8",
    )
    reported = problems(pack)
    assert any(
        p.startswith("error: pack.yaml:1: galaxy-devcon-2031: event: required field is missing")
        for p in reported
    )
    assert any(p.startswith("error: more.yaml:2: broken: ") for p in reported), "field errors in a fact"
    assert any(
        p.startswith("error: more.yaml:13: ghostly: facts[0]: ") and "'nowhere'" in p for p in reported
    ), "a launch pointing at a missing fact is reported in the same pass"


def test_the_pure_python_yaml_loader_accepts_what_the_c_loader_does(tmp_path: Path) -> None:
    for path in sorted(BUNDLED_DIR.glob("*.yaml")):
        text = path.read_text(encoding="utf-8")
        assert yaml.load(text, Loader=yaml.SafeLoader) == yaml.load(
            text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader)
        )
    bom = write_pack(tmp_path)
    (bom / "facts.yaml").write_bytes(
        b"\xef\xbb\xbf" + (bom / "facts.yaml").read_bytes().replace(b"\n", b"\r\n")
    )
    assert "speed" in load_knowledge(bom).facts, "a byte-order mark and Windows line ends load too"


def two_packs(root: Path) -> Path:
    write_pack(root / "galaxy")
    write_pack(
        root / "orbit",
        pack_id="orbit-summit-2030",
        title="Orbit Summit 2030 keynote",
        event="Orbit Summit 2030",
        product="Comet7",
        speaker="Bo Lind",
        number=7,
    )
    return root


def test_two_packs_in_one_directory_each_answer_their_own_questions(tmp_path: Path) -> None:
    knowledge = load_knowledge(two_packs(tmp_path))
    assert list(knowledge.packs) == ["galaxy-devcon-2031", "orbit-summit-2030"]
    assert sorted(knowledge.facts) == ["galaxy-devcon-2031/speed", "orbit-summit-2030/speed"], (
        "an id two packs share is qualified with its pack"
    )
    matcher = Matcher(knowledge)
    nebula = matcher.ask("how fast is nebula9?")
    comet = matcher.ask("Comet7有多快？")
    assert nebula.answered and "42 trillion" in nebula.text and nebula.pack == "galaxy-devcon-2031"
    assert comet.answered and "7万亿" in comet.text and comet.pack == "orbit-summit-2030"


def test_check_validates_every_pack(tmp_path: Path) -> None:
    result = run_bot("check", env={"KNOWLEDGE_DIR": str(two_packs(tmp_path))})
    assert result.returncode == 0, result.stderr
    assert "2 facts, 2 launches" in result.stdout and "2 packs" in result.stdout


def test_check_warns_about_facts_two_packs_cannot_tell_apart(tmp_path: Path) -> None:
    write_pack(tmp_path / "galaxy")
    write_pack(tmp_path / "galaxy-again", pack_id="galaxy-rerun", title="Galaxy rerun", event="Galaxy rerun")
    result = run_bot("check", env={"KNOWLEDGE_DIR": str(tmp_path)})
    assert result.returncode == 0, result.stderr
    warnings = [line for line in result.stdout.splitlines() if line.startswith("warning:")]
    assert warnings and "galaxy-devcon-2031/speed" in warnings[0] and "galaxy-rerun/speed" in warnings[0]
