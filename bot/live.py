"""The knowledge the bot answers from, swapped whole when curators change the files.

A reader takes `live.current` once per request and uses that snapshot throughout, so a reload in
the middle of a request never mixes two versions of the knowledge.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from pathlib import Path

from knowledge.loader import BUNDLED_DIR, Knowledge, KnowledgeError, knowledge_files, load_knowledge
from knowledge.matcher import Matcher

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Snapshot:
    knowledge: Knowledge
    matcher: Matcher


def _stamp(directory: Path) -> tuple[tuple[str, int, int], ...]:
    """Cheap change detection: names, sizes and modification times, without reading the files."""
    stamps = []
    for path in knowledge_files(directory):
        stat = path.stat()
        stamps.append((str(path), stat.st_size, stat.st_mtime_ns))
    return tuple(stamps)


class LiveKnowledge:
    def __init__(self, directory: Path | None = None) -> None:
        """Load the knowledge or raise KnowledgeError: the bot refuses to start on invalid files."""
        self.directory = directory or BUNDLED_DIR
        self._stamp = _stamp(self.directory)
        self.current = self._build()

    def _build(self) -> Snapshot:
        knowledge = load_knowledge(self.directory)
        return Snapshot(knowledge, Matcher(knowledge))

    def reload(self) -> KnowledgeError | None:
        """Swap in the files as they are now; on invalid files keep the last good knowledge."""
        self._stamp = _stamp(self.directory)
        try:
            snapshot = self._build()
        except KnowledgeError as error:
            log.error("knowledge reload failed, still answering from the last good knowledge:\n%s", error)
            return error
        changed = snapshot.knowledge.fingerprint != self.current.knowledge.fingerprint
        self.current = snapshot
        if changed:
            log.info(
                "knowledge reloaded: %d facts, %d launches",
                len(snapshot.knowledge.facts),
                len(snapshot.knowledge.launches),
            )
        return None

    def changed_on_disk(self) -> bool:
        return _stamp(self.directory) != self._stamp

    async def watch(self, interval: float) -> None:
        """Poll the directory and reload on change; runs until cancelled."""
        while True:
            await asyncio.sleep(interval)
            try:
                if self.changed_on_disk():
                    await asyncio.to_thread(self.reload)
            except OSError as error:
                log.error("cannot read the knowledge directory %s: %s", self.directory, error)
