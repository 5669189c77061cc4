"""The knowledge the bot answers from, swapped whole when curators change the files.

A reader takes `live.current` once per request and uses that snapshot throughout, so a reload in
the middle of a request never mixes two versions of the knowledge. New knowledge is built off the event
loop (in a worker thread) and only the swap happens on it, so a big reload never stalls replies.

Two guards against a half-finished save: a knowledge file with no facts and no launches is an error (the
last good knowledge stays), and a change that removes more than `max_drop` of the facts or launches (or
more than half of one file's facts) is held back with a warning until the files are unchanged at the
next poll, or a curator runs /reload.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from pathlib import Path

import yaml

from knowledge.loader import (
    BUNDLED_DIR,
    Knowledge,
    KnowledgeError,
    Problem,
    knowledge_files,
    load_knowledge,
)
from knowledge.matcher import Matcher

log = logging.getLogger(__name__)

MAX_DROP = 0.1
"""Default share of the facts or launches one reload may remove without being held back."""
FILE_MAX_DROP = 0.5
"""Share of one file's facts a reload may remove without being held back (a save cut short)."""

Stamp = tuple[tuple[str, int, int], ...]


@dataclass(frozen=True)
class Snapshot:
    knowledge: Knowledge
    matcher: Matcher


def _stamp(directory: Path) -> Stamp:
    """Cheap change detection: names, sizes and modification times, without reading the files."""
    stamps = []
    for path in knowledge_files(directory):
        stat = path.stat()
        stamps.append((str(path), stat.st_size, stat.st_mtime_ns))
    return tuple(stamps)


def _empty_files(directory: Path, knowledge: Knowledge) -> list[Problem]:
    """Files that hold neither facts nor launches: emptied, or cut before their first item."""
    with_facts = set(knowledge.fact_files.values())
    problems = []
    for path in knowledge_files(directory):
        name = path.relative_to(directory).as_posix()
        if name in with_facts:
            continue
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        # Only a file that is nothing but (empty) facts and launches: other YAML (a pack's description)
        # is not a knowledge file emptied by a bad save.
        if data is None or (
            isinstance(data, dict) and set(data) <= {"facts", "launches"} and not any(data.values())
        ):
            problems.append(Problem(name, "the file has no facts and no launches (emptied, or cut short?)"))
    return problems


def losses(before: Knowledge, after: Knowledge, max_drop: float) -> str | None:
    """What a reload from `before` to `after` removes, when it is more than a save should: or None."""
    lost_facts = [fact_id for fact_id in before.facts if fact_id not in after.facts]
    lost_launches = [launch_id for launch_id in before.launches if launch_id not in after.launches]
    reasons = []
    if before.facts and len(lost_facts) > max_drop * len(before.facts):
        reasons.append(f"{len(lost_facts)} of {len(before.facts)} facts")
    if before.launches and len(lost_launches) > max_drop * len(before.launches):
        reasons.append(f"{len(lost_launches)} of {len(before.launches)} launches")
    per_file: dict[str, list[str]] = {}
    for fact_id, name in before.fact_files.items():
        per_file.setdefault(name, []).append(fact_id)
    for name, fact_ids in sorted(per_file.items()):
        gone = [fact_id for fact_id in fact_ids if fact_id not in after.facts]
        if len(gone) > FILE_MAX_DROP * len(fact_ids):
            reasons.append(f"{len(gone)} of {len(fact_ids)} facts in {name}")
    return "; ".join(reasons) or None


class LiveKnowledge:
    def __init__(self, directory: Path | None = None, max_drop: float = MAX_DROP) -> None:
        """Load the knowledge or raise KnowledgeError: the bot refuses to start on invalid files."""
        self.directory = directory or BUNDLED_DIR
        self.max_drop = max_drop
        self._stamp = _stamp(self.directory)
        self.current = self._build()
        self._held: Snapshot | None = None
        self._held_stamp: Stamp | None = None

    def _build(self) -> Snapshot:
        knowledge = load_knowledge(self.directory)
        problems = _empty_files(self.directory, knowledge)
        if problems:
            raise KnowledgeError(problems)
        return Snapshot(knowledge, Matcher(knowledge))

    def _prepare(self) -> Snapshot | KnowledgeError:
        """Build the knowledge as the files are now (slow: run it off the event loop)."""
        self._stamp = _stamp(self.directory)
        try:
            return self._build()
        except KnowledgeError as error:
            log.error("knowledge reload failed, still answering from the last good knowledge:\n%s", error)
            return error

    def _swap(self, snapshot: Snapshot) -> None:
        changed = snapshot.knowledge.fingerprint != self.current.knowledge.fingerprint
        self.current = snapshot
        self._held = self._held_stamp = None
        if changed:
            log.info(
                "knowledge reloaded: %d facts, %d launches",
                len(snapshot.knowledge.facts),
                len(snapshot.knowledge.launches),
            )

    def reload(self) -> KnowledgeError | None:
        """Swap in the files as they are now (a curator's /reload: nothing is held back); on invalid
        files keep the last good knowledge and return why."""
        prepared = self._prepare()
        if isinstance(prepared, KnowledgeError):
            return prepared
        self._swap(prepared)
        return None

    async def reload_off_loop(self) -> KnowledgeError | None:
        """`reload`, with the building in a worker thread and only the swap on the event loop."""
        prepared = await asyncio.to_thread(self._prepare)
        if isinstance(prepared, KnowledgeError):
            return prepared
        self._swap(prepared)
        return None

    def changed_on_disk(self) -> bool:
        return _stamp(self.directory) != self._stamp

    def _poll(self) -> Snapshot | None:
        """One watcher poll (in a worker thread): the snapshot to swap in, or None to keep the current.

        A change that removes too much is held; if the files are still the same at the next poll, it
        was meant, and is swapped in then."""
        stamp = _stamp(self.directory)
        if self._held is not None and stamp == self._held_stamp:
            log.warning("applying the held-back knowledge reload: the files did not change since")
            return self._held
        if stamp == self._stamp:
            return None
        prepared = self._prepare()
        if isinstance(prepared, KnowledgeError):
            self._held = self._held_stamp = None
            return None
        lost = losses(self.current.knowledge, prepared.knowledge, self.max_drop)
        if lost is not None:
            self._held, self._held_stamp = prepared, stamp
            log.warning(
                "knowledge reload held back: the files now lack %s; still answering from the current "
                "knowledge. It is applied if the files are unchanged at the next poll, or now with /reload",
                lost,
            )
            return None
        return prepared

    async def watch(self, interval: float) -> None:
        """Poll the directory and reload on change; runs until cancelled."""
        while True:
            await asyncio.sleep(interval)
            try:
                snapshot = await asyncio.to_thread(self._poll)
            except (OSError, yaml.YAMLError) as error:
                log.error("cannot read the knowledge directory %s: %s", self.directory, error)
                continue
            if snapshot is not None:
                self._swap(snapshot)
