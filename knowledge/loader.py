"""Read and validate a knowledge directory, reporting every problem with its file, id and field.

Loading happens at start-up and on reload, never at question time.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import ValidationError

from knowledge.models import Fact, KnowledgeFile, Launch

BUNDLED_DIR = Path(__file__).parent / "facts"
_SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
"""libyaml's safe loader parses ten times faster; the pure-Python one is the fallback without it."""


@dataclass(frozen=True)
class Problem:
    file: str
    message: str
    item_id: str | None = None
    field: str | None = None
    severity: Literal["error", "warning"] = "error"

    def __str__(self) -> str:
        where = self.file
        if self.item_id:
            where += f": {self.item_id}"
        if self.field:
            where += f": {self.field}"
        return f"{self.severity}: {where}: {self.message}"


class KnowledgeError(Exception):
    """The knowledge is invalid; `problems` says where and why, one line each."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


@dataclass(frozen=True)
class Knowledge:
    facts: Mapping[str, Fact]
    launches: Mapping[str, Launch]
    fingerprint: str = field(compare=False)
    fact_files: Mapping[str, str] = field(default_factory=dict, compare=False)

    def launch_facts(self, launch: Launch) -> list[Fact]:
        return [self.facts[fact_id] for fact_id in launch.facts]


def knowledge_files(directory: Path) -> list[Path]:
    return sorted(p for p in directory.rglob("*") if p.suffix in {".yaml", ".yml"} and p.is_file())


def fingerprint(directory: Path) -> str:
    """A digest of every knowledge file's name and bytes: equal fingerprints mean equal knowledge."""
    digest = hashlib.sha256()
    for path in knowledge_files(directory):
        digest.update(path.relative_to(directory).as_posix().encode())
        digest.update(b"\0")
        digest.update(path.read_bytes())
        digest.update(b"\0")
    return digest.hexdigest()


def load_knowledge(directory: Path = BUNDLED_DIR) -> Knowledge:
    """Load every YAML file below `directory`; raise KnowledgeError listing all problems found."""
    if not directory.is_dir():
        raise KnowledgeError([Problem(str(directory), "knowledge directory not found")])
    paths = knowledge_files(directory)
    if not paths:
        raise KnowledgeError([Problem(str(directory), "no .yaml files in the knowledge directory")])
    problems: list[Problem] = []
    facts: dict[str, Fact] = {}
    launches: dict[str, Launch] = {}
    fact_files: dict[str, str] = {}
    launch_files: dict[str, str] = {}
    for path in paths:
        name = path.relative_to(directory).as_posix()
        parsed = _parse_file(path, name, problems)
        if parsed is None:
            continue
        for fact in parsed.facts:
            if fact.id in fact_files:
                problems.append(
                    Problem(name, f"duplicate fact id, first defined in {fact_files[fact.id]}", fact.id, "id")
                )
                continue
            facts[fact.id] = fact
            fact_files[fact.id] = name
        for launch in parsed.launches:
            if launch.id in launch_files:
                problems.append(
                    Problem(
                        name,
                        f"duplicate launch id, first defined in {launch_files[launch.id]}",
                        launch.id,
                        "id",
                    )
                )
                continue
            launches[launch.id] = launch
            launch_files[launch.id] = name
    for launch in launches.values():
        for index, fact_id in enumerate(launch.facts):
            if fact_id not in facts:
                problems.append(
                    Problem(
                        launch_files[launch.id],
                        f"launch refers to fact {fact_id!r}, which does not exist",
                        launch.id,
                        f"facts[{index}]",
                    )
                )
    if not facts and not problems:
        problems.append(Problem(str(directory), "the knowledge has no facts"))
    if problems:
        raise KnowledgeError(problems)
    return Knowledge(
        facts=facts, launches=launches, fingerprint=fingerprint(directory), fact_files=fact_files
    )


def _parse_file(path: Path, name: str, problems: list[Problem]) -> KnowledgeFile | None:
    try:
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=_SAFE_LOADER)
    except UnicodeDecodeError as error:
        problems.append(Problem(name, f"not UTF-8 text: {error.reason}"))
        return None
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        problems.append(Problem(name, f"invalid YAML: {where}{getattr(error, 'problem', None) or error}"))
        return None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        problems.append(Problem(name, "expected a mapping with `facts:` and/or `launches:` at the top level"))
        return None
    try:
        return KnowledgeFile.model_validate(data)
    except ValidationError as error:
        problems.extend(_validation_problems(name, data, error.errors()))
        return None


def _validation_problems(name: str, data: dict[str, Any], errors: Iterable[Any]) -> list[Problem]:
    problems = []
    for error in errors:
        loc = list(error["loc"])
        item_id = None
        if len(loc) >= 2 and loc[0] in ("facts", "launches") and isinstance(loc[1], int):
            items = data.get(loc[0])
            item = items[loc[1]] if isinstance(items, list) and loc[1] < len(items) else None
            raw_id = item.get("id") if isinstance(item, dict) else None
            item_id = str(raw_id) if raw_id else f"{loc[0]}[{loc[1]}]"
            loc = loc[2:]
        field_path = "".join(f"[{part}]" if isinstance(part, int) else f".{part}" for part in loc).lstrip(".")
        problems.append(Problem(name, _message(error), item_id, field_path or None))
    return problems


def _message(error: Mapping[str, Any]) -> str:
    kind = error["type"]
    if kind == "missing":
        return "required field is missing (every text needs both `en` and `zh`)"
    if kind == "too_short":
        return "must not be empty"
    if kind == "extra_forbidden":
        return "unknown field"
    return str(error["msg"])
