"""Curators' edits to the knowledge files, made safely.

An edit is an operation (add a question variant to a fact, add a new fact), never a whole file: it is
applied to the file as it is at the moment of saving, so two curators saving the same file at once both
keep their change (saves are serialised by a lock, in this process and across processes). Before
anything is written the edited knowledge is loaded from a scratch copy with the same checks as
`python -m bot check`; the YAML is changed in place by a round-trip parser (comments, order, quoting
and layout kept), and written atomically (a temporary file renamed over the old one), so the running
bot's hot reload only ever sees a whole, valid file.
"""

from __future__ import annotations

import contextlib
import difflib
import fcntl
import hashlib
import io
import os
import shutil
import tempfile
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.scalarstring import DoubleQuotedScalarString

from knowledge.language import detect_language
from knowledge.loader import Knowledge, KnowledgeError, load_knowledge
from knowledge.matcher import Matcher
from knowledge.models import LANGUAGES, Language


class EditError(Exception):
    """The edit cannot be made; the message says why, and `problems` lists what `check` found."""

    def __init__(self, message: str, problems: list[str] | None = None) -> None:
        super().__init__(message)
        self.problems = problems or []


@dataclass(frozen=True)
class AddVariant:
    fact_id: str
    question: str
    language: Language | None = None
    """None: detected from the question."""

    action = "add-variant"

    def summary(self) -> str:
        return f"add {self.question!r} as a question of {self.fact_id}"


@dataclass(frozen=True)
class NewFact:
    file: str
    """The facts file, relative to the knowledge directory."""
    fact_id: str
    topic: str
    timestamp: str
    questions: dict[str, list[str]]
    answer: dict[str, str]
    speaker: str | None = None

    action = "new-fact"

    def summary(self) -> str:
        return f"add the fact {self.fact_id} to {self.file}"


Operation = AddVariant | NewFact


@dataclass
class Change:
    """What an operation does to one file: the file, the texts before and after, and the diff."""

    operation: Operation
    file: str
    before: str
    after: str
    warnings: list[str] = field(default_factory=list)

    @property
    def fact_id(self) -> str:
        return self.operation.fact_id

    @property
    def diff(self) -> str:
        return "".join(
            difflib.unified_diff(
                self.before.splitlines(keepends=True),
                self.after.splitlines(keepends=True),
                fromfile=f"a/{self.file}",
                tofile=f"b/{self.file}",
                n=3,
            )
        )


def _yaml() -> YAML:
    yaml = YAML(typ="rt")
    yaml.preserve_quotes = True
    yaml.width = 4096  # never re-wrap a long line the curator wrote on one
    yaml.indent(mapping=2, sequence=4, offset=2)
    yaml.allow_unicode = True
    return yaml


def _dump(data: Any) -> str:
    out = io.StringIO()
    _yaml().dump(data, out)
    return out.getvalue()


_locks: dict[str, threading.Lock] = {}
_locks_guard = threading.Lock()


@contextlib.contextmanager
def _locked(directory: Path) -> Iterator[None]:
    """One save at a time per knowledge directory: a thread lock here, a file lock across processes."""
    key = str(directory.resolve())
    with _locks_guard:
        lock = _locks.setdefault(key, threading.Lock())
    lock_path = (
        Path(tempfile.gettempdir()) / f"keynote-curation-{hashlib.sha256(key.encode()).hexdigest()[:16]}.lock"
    )
    with lock, open(lock_path, "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


class Editor:
    """Edits one knowledge directory (the one the bot answers from)."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def facts_files(self, knowledge: Knowledge) -> list[str]:
        """Files a new fact can go into: those that already hold facts."""
        return sorted(set(knowledge.fact_files.values()))

    def _path(self, name: str) -> Path:
        path = (self.directory / name).resolve()
        if self.directory.resolve() not in path.parents or path.suffix not in {".yaml", ".yml"}:
            raise EditError(f"{name} is not a knowledge file")
        if not path.is_file():
            raise EditError(f"{name} does not exist")
        return path

    def _target(self, operation: Operation, knowledge: Knowledge) -> str:
        if isinstance(operation, AddVariant):
            name = knowledge.fact_files.get(operation.fact_id)
            if name is None:
                raise EditError(f"there is no fact {operation.fact_id!r}")
            return name
        return operation.file

    def _edited(self, operation: Operation, text: str) -> str:
        data = _yaml().load(text)
        if not isinstance(data, CommentedMap):
            raise EditError("the file is not a mapping with facts")
        facts = data.get("facts")
        if isinstance(operation, AddVariant):
            raw_id = operation.fact_id.rsplit("/", 1)[-1]
            fact = next(
                (f for f in facts or [] if isinstance(f, CommentedMap) and f.get("id") == raw_id), None
            )
            if fact is None:
                raise EditError(f"the fact {operation.fact_id!r} is no longer in its file")
            question = " ".join(operation.question.split())
            if not question:
                raise EditError("the question is empty")
            language = operation.language or detect_language(question)
            variants = fact["questions"].get(language)
            if not isinstance(variants, CommentedSeq):
                raise EditError(f"the fact {operation.fact_id!r} has no {language} questions list")
            if any(" ".join(str(v).split()).casefold() == question.casefold() for v in variants):
                raise EditError(f"{question!r} is already a question of {operation.fact_id}")
            variants.append(question)
            return _dump(data)
        if facts is None:
            facts = data["facts"] = CommentedSeq()
        if not isinstance(facts, CommentedSeq):
            raise EditError("the file's facts are not a list")
        fact = CommentedMap()
        fact["id"] = operation.fact_id.strip()
        fact["topic"] = operation.topic.strip()
        fact["timestamp"] = DoubleQuotedScalarString(
            operation.timestamp.strip()
        )  # unquoted, 30:00 is a number
        if operation.speaker and operation.speaker.strip():
            fact["speaker"] = operation.speaker.strip()
        questions = CommentedMap()
        for language in LANGUAGES:
            seq = CommentedSeq(q.strip() for q in operation.questions.get(language, []) if q.strip())
            questions[language] = seq
        fact["questions"] = questions
        answer = CommentedMap()
        for language in LANGUAGES:
            answer[language] = operation.answer.get(language, "").strip()
        fact["answer"] = answer
        facts.append(fact)
        return _dump(data)

    def _checked(self, name: str, after: str) -> Knowledge:
        """The knowledge as it would be with `name` holding `after`, checked like `python -m bot check`."""
        with tempfile.TemporaryDirectory(prefix="keynote-edit-") as scratch:
            copy = Path(scratch) / "knowledge"
            shutil.copytree(self.directory, copy, ignore=shutil.ignore_patterns(".*"))
            (copy / name).write_text(after, encoding="utf-8")
            try:
                return load_knowledge(copy)
            except KnowledgeError as error:
                problems = [str(problem) for problem in error.problems]
                raise EditError("the edit would make the knowledge invalid", problems) from None

    def preview(self, operation: Operation, knowledge: Knowledge) -> Change:
        """The change the operation makes to the file as it is now, checked but not written."""
        name = self._target(operation, knowledge)
        before = self._path(name).read_text(encoding="utf-8")
        after = self._edited(operation, before)
        checked = self._checked(name, after)
        change = Change(operation, name, before, after)
        if isinstance(operation, AddVariant):
            answer = Matcher(checked).ask(operation.question)
            if not answer.answered or answer.fact is None or answer.fact.id != operation.fact_id:
                got = answer.fact.id if answer.fact else "nothing"
                change.warnings.append(
                    f"after this edit the question is answered by {got}, not by {operation.fact_id}"
                )
        return change

    def save(self, operation: Operation, knowledge: Knowledge) -> Change:
        """Apply the operation to the file as it is now, check, and write it atomically."""
        with _locked(self.directory):
            change = self.preview(operation, knowledge)
            path = self._path(change.file)
            _atomic_write(path, change.after)
        return change


def _atomic_write(path: Path, text: str) -> None:
    descriptor, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        shutil.copymode(path, temporary)
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise
