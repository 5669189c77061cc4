"""Read and validate knowledge packs, reporting every problem with its file, line, id and field.

A pack is a directory: `pack.yaml` (the keynote: title, event, themes, examples) and any number of
facts files (every other `*.yaml` in it or below). `KNOWLEDGE_DIR` is one pack, or a directory whose
subdirectories are packs; a directory of facts files without `pack.yaml` still loads, as one pack
described from its own facts. Loading happens at start-up and on reload, never at question time; a
large knowledge whose files have not changed is read back from the cache (knowledge/cache.py).
"""

from __future__ import annotations

import hashlib
import os
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ValidationError

from knowledge import cache
from knowledge.models import Bilingual, Examples, Fact, Label, Launch, Pack
from knowledge.store import FactStore

PACKS_DIR = Path(__file__).parent / "packs"
"""The bundled packs."""
BUNDLED_DIR = PACKS_DIR / "reinvent-2025-infrastructure"
"""The bundled knowledge: the AWS re:Invent 2025 infrastructure keynote."""
PACK_FILE = "pack.yaml"
_YAML_SUFFIXES = (".yaml", ".yml")
_SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
"""libyaml's safe loader parses ten times faster; the pure-Python one is the fallback without it."""
_ID_RULE = (
    "an id is lowercase letters, digits and hyphens, starting with a letter or digit (e.g. graviton5-cores)"
)
_TIMESTAMP_RULE = (
    'a timestamp is minutes:seconds or hours:minutes:seconds, in quotes (e.g. "28:00", "1:28:00")'
)


@dataclass(frozen=True)
class Problem:
    file: str
    message: str
    item_id: str | None = None
    field: str | None = None
    severity: Literal["error", "warning"] = "error"
    line: int | None = None

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
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
    """A FactStore when loaded: facts kept compact, made when read."""
    launches: Mapping[str, Launch]
    fingerprint: str = field(compare=False)
    fact_files: Mapping[str, str] = field(default_factory=dict, compare=False)
    packs: Mapping[str, Pack] = field(default_factory=dict, compare=False)
    """Every pack by id, in load order."""
    fact_packs: Mapping[str, str] = field(default_factory=dict, compare=False)
    """The pack id of each fact; a fact id two packs share is `pack-id/fact-id`."""
    launch_packs: Mapping[str, str] = field(default_factory=dict, compare=False)

    def launch_facts(self, launch: Launch) -> list[Fact]:
        return [self.facts[fact_id] for fact_id in launch.facts]

    def pack_of_fact(self, fact_id: str) -> Pack:
        return self.packs[self.fact_packs[fact_id]]

    def pack_of_launch(self, launch_id: str) -> Pack:
        return self.packs[self.launch_packs[launch_id]]

    @property
    def first_pack(self) -> Pack:
        return next(iter(self.packs.values()))


def pack_dirs(directory: Path) -> list[Path]:
    """The packs a knowledge directory holds: itself, or its subdirectories with a `pack.yaml`."""
    if (directory / PACK_FILE).is_file():
        return [directory]
    inner = sorted(d for d in directory.iterdir() if d.is_dir() and (d / PACK_FILE).is_file())
    return inner or [directory]


def knowledge_files(directory: Path) -> list[Path]:
    """Every YAML file below `directory`, `pack.yaml` included (what a reload watches), in path order.

    Found with os.scandir rather than Path.rglob (the same files, symlinked directories not followed):
    a cold start lists a conference's thousands of files first, and rglob took a quarter-second."""
    return [Path(path) for path in _sorted_yaml_files(directory)]


def _sorted_yaml_files(directory: Path) -> list[str]:
    return sorted(_yaml_files(str(directory)), key=lambda path: path.split(os.sep))


def _yaml_files(directory: str) -> Iterator[str]:
    try:
        with os.scandir(directory) as entries:
            listed = list(entries)
    except PermissionError:
        return
    for entry in listed:
        if entry.is_dir() and not entry.is_symlink():
            yield from _yaml_files(entry.path)
        elif os.path.splitext(entry.name)[1] in _YAML_SUFFIXES and entry.is_file():
            yield entry.path


def fingerprint(directory: Path) -> str:
    """A digest of every knowledge file's name and bytes: equal fingerprints mean equal knowledge."""
    digest = hashlib.sha256()
    prefix = len(os.path.join(directory, ""))  # the found paths all start with it (os.path.relpath is slow)
    for path in _sorted_yaml_files(directory):
        digest.update(path[prefix:].replace(os.sep, "/").encode())
        digest.update(b"\0")
        with open(path, "rb") as file:
            digest.update(file.read())
        digest.update(b"\0")
    return digest.hexdigest()


@dataclass
class _Pack:
    """One pack as read, before packs are put together."""

    pack: Pack
    where: str
    """The pack's directory, relative to the knowledge directory (for messages)."""
    facts: FactStore
    """Compact as soon as the pack is checked, so that loading many packs never holds them all as
    Fact objects."""
    launches: dict[str, Launch] = field(default_factory=dict)
    fact_files: dict[str, str] = field(default_factory=dict)


def load_knowledge(directory: Path = BUNDLED_DIR) -> Knowledge:
    """Load every pack below `directory`; raise KnowledgeError listing every problem found."""
    if not directory.is_dir():
        raise KnowledgeError([Problem(str(directory), "knowledge directory not found")])
    digest = fingerprint(directory)
    # A pack without pack.yaml is named after its directory: the same files elsewhere differ.
    key = f"{directory.resolve()}\0{digest}"
    cached = cache.load("knowledge", key, Knowledge)
    if cached is not None:
        return cached
    problems: list[Problem] = []
    packs: list[_Pack] = []
    for pack_dir in pack_dirs(directory):
        loaded = _load_pack(pack_dir, directory, problems)
        if loaded is not None:
            packs.append(loaded)
    seen: dict[str, str] = {}
    for loaded in packs:
        if loaded.pack.id in seen:
            problems.append(
                Problem(
                    loaded.where,
                    f"duplicate pack id, also the id of {seen[loaded.pack.id]}",
                    loaded.pack.id,
                    "id",
                )
            )
        seen[loaded.pack.id] = loaded.where
    if problems:
        raise KnowledgeError(problems)
    knowledge = _together(packs, digest)
    if len(knowledge.facts) >= cache.CACHE_FROM:
        cache.save("knowledge", key, knowledge)
    return knowledge


def _together(packs: list[_Pack], digest: str) -> Knowledge:
    """One Knowledge from several packs; an id two packs share is qualified with its pack's id."""
    shared_facts = {i for i, n in Counter(i for p in packs for i in p.facts).items() if n > 1}
    shared_launches = {i for i, n in Counter(i for p in packs for i in p.launches).items() if n > 1}
    renamed: list[dict[str, str]] = []
    launches: dict[str, Launch] = {}
    fact_files: dict[str, str] = {}
    fact_packs: dict[str, str] = {}
    launch_packs: dict[str, str] = {}
    for loaded in packs:
        pack_id = loaded.pack.id

        def key(fact_id: str, shared: set[str], pack: str = pack_id) -> str:
            return f"{pack}/{fact_id}" if fact_id in shared else fact_id

        renamed.append({})
        for fact_id in loaded.facts:
            qualified = key(fact_id, shared_facts)
            if qualified != fact_id:
                renamed[-1][fact_id] = qualified
            fact_files[qualified] = loaded.fact_files[fact_id]
            fact_packs[qualified] = pack_id
        for launch_id, launch in loaded.launches.items():
            qualified = key(launch_id, shared_launches)
            update: dict[str, Any] = {"facts": [key(f, shared_facts) for f in launch.facts]}
            if qualified != launch_id:
                update["id"] = qualified
            launches[qualified] = launch.model_copy(update=update)
            launch_packs[qualified] = pack_id
    return Knowledge(
        facts=FactStore.joined(zip((loaded.facts for loaded in packs), renamed, strict=True)),
        launches=launches,
        fingerprint=digest,
        fact_files=fact_files,
        packs={loaded.pack.id: loaded.pack for loaded in packs},
        fact_packs=fact_packs,
        launch_packs=launch_packs,
    )


def _load_pack(pack_dir: Path, root: Path, problems: list[Problem]) -> _Pack | None:
    """One pack, or None with its problems added: every file is read and every item checked, so a
    curator sees all problems in one pass."""
    before = len(problems)
    where = _name(pack_dir, root) or "."
    pack_file = pack_dir / PACK_FILE
    pack = _read_pack(pack_file, root, problems) if pack_file.is_file() else None
    paths = [p for p in knowledge_files(pack_dir) if p.name != PACK_FILE]
    if not paths:
        problems.append(Problem(where, "no facts files (.yaml) in the pack"))
        return None
    facts: dict[str, Fact] = {}
    fact_files: dict[str, str] = {}
    fact_nodes: dict[str, tuple[Any, int]] = {}
    launches: dict[str, Launch] = {}
    launch_places: dict[str, tuple[str, Any, int]] = {}
    broken: set[str] = set()
    for path in paths:
        name = _name(path, root)
        parsed = _parse(path, name, problems)
        if parsed is None:
            continue
        data, node = parsed
        for index, item in enumerate(_items(data, "facts", name, problems)):
            fact = _validated(Fact, item, name, ["facts", index], node, problems)
            if fact is None:
                if isinstance(item, dict) and item.get("id"):
                    broken.add(str(item["id"]))
            elif fact.id in fact_files:
                problems.append(
                    Problem(
                        name,
                        f"duplicate fact id, first defined in {fact_files[fact.id]}",
                        fact.id,
                        "id",
                        line=_line(node, ["facts", index, "id"]),
                    )
                )
            else:
                facts[fact.id], fact_files[fact.id], fact_nodes[fact.id] = fact, name, (node, index)
        for index, item in enumerate(_items(data, "launches", name, problems)):
            launch = _validated(Launch, item, name, ["launches", index], node, problems)
            if launch is None:
                continue
            if launch.id in launches:
                first = launch_places[launch.id][0]
                problems.append(
                    Problem(
                        name,
                        f"duplicate launch id, first defined in {first}",
                        launch.id,
                        "id",
                        line=_line(node, ["launches", index, "id"]),
                    )
                )
                continue
            launches[launch.id], launch_places[launch.id] = launch, (name, node, index)
    if pack is None and not pack_file.is_file():
        pack = _described(pack_dir, list(launches.values()), list(facts.values()))
    _check_references(pack, facts, fact_files, fact_nodes, launches, launch_places, broken, problems)
    if pack is None:
        return None
    if not facts and len(problems) == before:
        problems.append(Problem(where, "the pack has no facts"))
    if len(problems) > before:
        return None
    return _Pack(pack, where, FactStore.of(facts.values()), launches, fact_files)


def _check_references(
    pack: Pack | None,
    facts: dict[str, Fact],
    fact_files: dict[str, str],
    fact_nodes: dict[str, tuple[Any, int]],
    launches: dict[str, Launch],
    launch_places: dict[str, tuple[str, Any, int]],
    broken: set[str],
    problems: list[Problem],
) -> None:
    """Launches' facts and themes, and facts' topics, against what the pack has (themes and topics
    only when its pack.yaml is valid). A launch pointing at a fact that failed its own checks is not
    reported twice."""
    themes = [theme.id for theme in pack.themes] if pack else []
    topics = [topic.id for topic in pack.topics] if pack else []
    for launch_id, launch in launches.items():
        name, node, index = launch_places[launch_id]
        for position, fact_id in enumerate(launch.facts):
            if fact_id not in facts and fact_id not in broken:
                problems.append(
                    Problem(
                        name,
                        f"launch refers to fact {fact_id!r}, which does not exist",
                        launch_id,
                        f"facts[{position}]",
                        line=_line(node, ["launches", index, "facts", position]),
                    )
                )
        if pack is not None and launch.theme not in themes:
            problems.append(
                Problem(
                    name,
                    f"unknown theme {launch.theme!r}; the pack's themes are {', '.join(themes)}",
                    launch_id,
                    "theme",
                    line=_line(node, ["launches", index, "theme"]),
                )
            )
    if topics:
        for fact_id, fact in facts.items():
            if fact.topic not in topics:
                node, index = fact_nodes[fact_id]
                problems.append(
                    Problem(
                        fact_files[fact_id],
                        f"unknown topic {fact.topic!r}; the pack's topics are {', '.join(topics)}",
                        fact_id,
                        "topic",
                        line=_line(node, ["facts", index, "topic"]),
                    )
                )


def _described(pack_dir: Path, launches: list[Launch], facts: list[Fact] | None = None) -> Pack:
    """A pack for a directory without `pack.yaml`: named after its directory, its themes the ones
    its launches use, its examples its first facts' questions."""
    facts = facts or []
    slug = "".join(ch if ch.isalnum() else "-" for ch in pack_dir.name.lower()).strip("-") or "keynote"
    theme_ids = list(dict.fromkeys(launch.theme for launch in launches)) or ["general"]
    themes = [Label(id=t, en=t.replace("-", " ").capitalize(), zh=t.replace("-", " ")) for t in theme_ids]
    return Pack(
        id=slug,
        title=Bilingual(en="the keynote", zh="主题演讲"),
        event=pack_dir.name,
        speakers=sorted({f.speaker for f in facts if f.speaker}),
        themes=themes,
        examples=Examples(
            en=[f.canonical_question("en") for f in facts[:2]] or ["What was announced?"],
            zh=[f.canonical_question("zh") for f in facts[:2]] or ["发布了什么？"],
        ),
    )


def _name(path: Path, root: Path) -> str:
    try:
        return path.relative_to(root).as_posix() or path.name
    except ValueError:
        return str(path)


def _read_pack(path: Path, root: Path, problems: list[Problem]) -> Pack | None:
    name = _name(path, root)
    parsed = _parse(path, name, problems)
    if parsed is None:
        return None
    data, node = parsed
    return _validated(Pack, data, name, [], node, problems)


def _parse(path: Path, name: str, problems: list[Problem]) -> tuple[Any, Any] | None:
    """The file's data and, for line numbers, its YAML node tree."""
    try:
        text = path.read_bytes().decode("utf-8-sig")
        data = yaml.load(text, Loader=_SAFE_LOADER)
        node = yaml.compose(text, Loader=_SAFE_LOADER)
    except UnicodeDecodeError as error:
        problems.append(Problem(name, f"not UTF-8 text: {error.reason} at byte {error.start}"))
        return None
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        problems.append(
            Problem(
                name,
                f"invalid YAML: {getattr(error, 'problem', None) or error}",
                line=mark.line + 1 if mark else None,
            )
        )
        return None
    return ({} if data is None else data), node


def _items(data: Any, key: str, name: str, problems: list[Problem]) -> list[Any]:
    if not isinstance(data, dict):
        if key == "facts":
            problems.append(
                Problem(name, "expected a mapping with `facts:` and/or `launches:` at the top level")
            )
        return []
    if key == "facts":
        for unknown in sorted(set(data) - {"facts", "launches"}, key=str):
            problems.append(
                Problem(name, f"unknown top-level key {unknown!r}: a facts file has `facts:` and `launches:`")
            )
    items = data.get(key) or []
    if not isinstance(items, list):
        problems.append(Problem(name, f"`{key}:` must be a list"))
        return []
    return items


def _validated(
    model: type[BaseModel], item: Any, name: str, at: list[Any], node: Any, problems: list[Problem]
) -> Any:
    try:
        return model.model_validate(item)
    except ValidationError as error:
        problems.extend(_validation_problems(name, item, at, node, error.errors()))
        return None


def _validation_problems(
    name: str, item: Any, at: list[Any], node: Any, errors: Iterable[Any]
) -> list[Problem]:
    raw_id = item.get("id") if isinstance(item, dict) else None
    item_id = str(raw_id) if raw_id else (f"{at[0]}[{at[1]}]" if len(at) == 2 else None)
    problems = []
    for error in errors:
        loc = list(error["loc"])
        field_path = "".join(f"[{part}]" if isinstance(part, int) else f".{part}" for part in loc).lstrip(".")
        problems.append(
            Problem(name, explain(error), item_id, field_path or None, line=_line(node, [*at, *loc]))
        )
    return problems


def _line(node: Any, path: list[Any]) -> int | None:
    """The line of the YAML node at `path` (keys and list positions), or of the nearest parent."""
    line = node.start_mark.line + 1 if node is not None and hasattr(node, "start_mark") else None
    for part in path:
        if isinstance(node, yaml.MappingNode):
            pair = next(((k, v) for k, v in node.value if getattr(k, "value", None) == part), None)
            if pair is None:
                return line
            line, node = pair[0].start_mark.line + 1, pair[1]
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
            node = node.value[part]
            line = node.start_mark.line + 1
        else:
            return line
    return line


def explain(error: Mapping[str, Any]) -> str:
    """One of pydantic's errors in words a curator can act on."""
    kind = error["type"]
    loc = error.get("loc") or ()
    last = loc[-1] if loc else None
    value = error.get("input")
    if kind == "missing":
        return "required field is missing (every text needs both `en` and `zh`)"
    if kind == "too_short":
        return "must not be empty"
    if kind == "extra_forbidden":
        return "unknown field"
    if last == "timestamp" and isinstance(value, int) and not isinstance(value, bool):
        hours, rest = divmod(value, 3600)
        minutes, seconds = divmod(rest, 60)
        written = f"{hours}:{minutes:02d}:{seconds:02d}" if hours else f"{minutes}:{seconds:02d}"
        return f'YAML read {written} as the number {value}: quote it, timestamp: "{written}"'
    if kind == "string_pattern_mismatch" and last == "timestamp":
        return f"{value!r} is not a timestamp: {_TIMESTAMP_RULE}"
    if kind == "string_pattern_mismatch":
        return f"{value!r} is not a valid id: {_ID_RULE}"
    return str(error["msg"])
