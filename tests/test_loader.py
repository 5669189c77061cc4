"""The loader tells a curator exactly what is wrong with bad knowledge: file, line, id, field, all at once."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from knowledge.loader import BUNDLED_DIR, KnowledgeError, load_knowledge
from knowledge.schema import SCHEMA_PATH, schema_text
from tests.conftest import run_bot

FACT = """\
  - id: {id}
    topic: graviton
    timestamp: "28:00"
    questions:
      en: ["How many cores does Graviton5 have?"]
      zh: ["Graviton5有多少个核心？"]
    answer:
      en: Graviton5 puts 192 cores in a single package.
      zh: Graviton5单封装提供192个核心。
"""

LAUNCH = """\
launches:
  - id: graviton5
    name: Graviton5
    theme: compute
    status: preview
    status_note: {{en: M9g instances in preview, zh: M9g实例预览}}
    timestamp: "28:00"
    summary: {{en: A processor., zh: 处理器。}}
    details: {{en: A processor., zh: 处理器。}}
    facts: [{facts}]
"""


def write(directory: Path, name: str, text: str) -> Path:
    path = directory / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def facts(*ids: str) -> str:
    return "facts:\n" + "".join(FACT.format(id=fact_id) for fact_id in ids)


def problems(directory: Path) -> list[str]:
    with pytest.raises(KnowledgeError) as caught:
        load_knowledge(directory)
    return [str(problem) for problem in caught.value.problems]


def test_valid_knowledge_loads_with_launch_facts(tmp_path: Path) -> None:
    write(tmp_path, "graviton.yaml", facts("graviton5-cores") + LAUNCH.format(facts="graviton5-cores"))
    knowledge = load_knowledge(tmp_path)
    assert list(knowledge.facts) == ["graviton5-cores"]
    assert knowledge.fact_files == {"graviton5-cores": "graviton.yaml"}
    assert [f.id for f in knowledge.launch_facts(knowledge.launches["graviton5"])] == ["graviton5-cores"]


def test_duplicate_id_across_files_names_both_files_and_the_id(tmp_path: Path) -> None:
    write(tmp_path, "a.yaml", facts("graviton5-cores"))
    write(tmp_path, "b.yaml", facts("graviton5-cores"))
    [problem] = problems(tmp_path)
    assert problem.startswith("error: b.yaml:2: graviton5-cores: id: "), "the second file is blamed"
    assert "duplicate fact id" in problem
    assert "a.yaml" in problem


def test_missing_translation_names_file_fact_and_field(tmp_path: Path) -> None:
    text = facts("graviton5-cores").replace("      zh: Graviton5单封装提供192个核心。\n", "")
    write(tmp_path, "graviton.yaml", text)
    [problem] = problems(tmp_path)
    assert problem.startswith("error: graviton.yaml:8: graviton5-cores: answer.zh: "), "the line of `answer:`"
    assert "missing" in problem


def test_empty_variant_list_is_reported(tmp_path: Path) -> None:
    write(
        tmp_path,
        "graviton.yaml",
        facts("graviton5-cores").replace('zh: ["Graviton5有多少个核心？"]', "zh: []"),
    )
    [problem] = problems(tmp_path)
    assert problem == "error: graviton.yaml:7: graviton5-cores: questions.zh: must not be empty"


def test_launch_referring_to_an_unknown_fact_names_launch_and_index(tmp_path: Path) -> None:
    write(
        tmp_path,
        "graviton.yaml",
        facts("graviton5-cores") + LAUNCH.format(facts="graviton5-cores, no-such-fact"),
    )
    [problem] = problems(tmp_path)
    assert problem.startswith("error: graviton.yaml:20: graviton5: facts[1]: ")
    assert "'no-such-fact'" in problem


def test_invalid_yaml_gives_the_line(tmp_path: Path) -> None:
    write(tmp_path, "broken.yaml", "facts:\n  - id: x\n    topic: [unclosed\n")
    [problem] = problems(tmp_path)
    assert problem.startswith("error: broken.yaml:")
    line = int(problem.split(":")[2])
    assert line >= 3 and "invalid YAML" in problem


def test_unknown_field_is_named(tmp_path: Path) -> None:
    write(
        tmp_path,
        "graviton.yaml",
        facts("graviton5-cores").replace("    topic: graviton\n", "    topc: graviton\n"),
    )
    reported = problems(tmp_path)
    assert "error: graviton.yaml:3: graviton5-cores: topc: unknown field" in reported
    assert "error: graviton.yaml:2: graviton5-cores: topic: required field is missing" in " ".join(reported)


def test_top_level_list_is_rejected(tmp_path: Path) -> None:
    write(tmp_path, "list.yaml", "- id: x\n")
    [problem] = problems(tmp_path)
    assert problem.startswith("error: list.yaml: expected a mapping")


def test_empty_directory_is_an_error(tmp_path: Path) -> None:
    [problem] = problems(tmp_path)
    assert "no facts files (.yaml)" in problem


def test_missing_directory_is_an_error(tmp_path: Path) -> None:
    [problem] = problems(tmp_path / "absent")
    assert "knowledge directory not found" in problem


def test_every_problem_is_reported_together(tmp_path: Path) -> None:
    write(tmp_path, "a.yaml", facts("shared-id"))
    write(tmp_path, "b.yaml", facts("shared-id"))
    write(tmp_path, "c.yaml", "facts: [oops\n")
    write(tmp_path, "d.yaml", facts("no-zh").replace("      zh: Graviton5单封装提供192个核心。\n", ""))
    write(tmp_path, "sub/e.yaml", facts("fine") + LAUNCH.format(facts="ghost"))
    reported = problems(tmp_path)
    assert len(reported) == 4, reported
    assert any(p.startswith("error: b.yaml:2: shared-id: id:") for p in reported)
    assert any(p.startswith("error: c.yaml:") and "invalid YAML" in p for p in reported)
    assert any(p.startswith("error: d.yaml:8: no-zh: answer.zh:") for p in reported)
    assert any(p.startswith("error: sub/e.yaml:20: graviton5: facts[0]:") for p in reported)


def run_cli(*args: str, knowledge_dir: Path | None = None) -> subprocess.CompletedProcess[str]:
    return run_bot(*args, env={"KNOWLEDGE_DIR": str(knowledge_dir)} if knowledge_dir else None)


def test_check_command_exits_1_and_prints_the_problems(tmp_path: Path) -> None:
    write(
        tmp_path,
        "graviton.yaml",
        facts("graviton5-cores").replace("      zh: Graviton5单封装提供192个核心。\n", ""),
    )
    result = run_cli("check", knowledge_dir=tmp_path)
    assert result.returncode == 1
    assert "graviton.yaml:8: graviton5-cores: answer.zh:" in result.stderr
    assert "1 error(s)" in result.stderr


def test_check_command_passes_on_the_bundled_knowledge() -> None:
    result = run_cli("check")
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[-1].startswith("ok: ")
    assert str(BUNDLED_DIR) in result.stdout


def test_schema_file_is_up_to_date() -> None:
    assert SCHEMA_PATH.read_text(encoding="utf-8") == schema_text(), "run `python -m bot schema`"
