"""What changed in the knowledge since a channel's last digest, from per-item content hashes.

Each subscription keeps the hashes of every fact and launch as they were when its last digest was
posted; comparing them with the current ones names exactly the items added or edited since, whatever
else was reloaded in between (a fingerprint alone could only say "something changed").
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping

from pydantic import BaseModel

from bot.digests.message import selected
from bot.replies import Section
from bot.texts import text
from knowledge.loader import Knowledge
from knowledge.models import Language

MAX_LINES = 10
MAX_LINE_CHARS = 160


def _hash(item: BaseModel) -> str:
    return hashlib.sha256(item.model_dump_json().encode()).hexdigest()[:16]


def content_hashes(knowledge: Knowledge) -> dict[str, str]:
    """`launch:ID` and `fact:ID` to a hash of the item's content."""
    hashes = {f"launch:{launch.id}": _hash(launch) for launch in knowledge.launches.values()}
    hashes.update({f"fact:{fact.id}": _hash(fact) for fact in knowledge.facts.values()})
    return hashes


def _shorten(line: str) -> str:
    line = " ".join(line.split())
    return line if len(line) <= MAX_LINE_CHARS else line[: MAX_LINE_CHARS - 1].rstrip() + "…"


def changes_section(
    knowledge: Knowledge, previous: Mapping[str, str] | None, topic: str | None, language: Language
) -> Section | None:
    """The "new or changed since last time" section, or None on a first digest or when nothing changed.

    With a topic, only its launches and their facts count. A new launch's facts are not
    listed again under it: the launch line says it all.
    """
    if previous is None:
        return None
    current = content_hashes(knowledge)
    launches = selected(knowledge, topic)
    in_theme = {fact_id for launch in launches for fact_id in launch.facts}
    lines: list[str] = []
    covered: set[str] = set()
    for launch in launches:
        key = f"launch:{launch.id}"
        if key not in previous:
            covered.update(launch.facts)
            lines.append(f"• {text('change_new', language)}: {launch.name} — {launch.summary.get(language)}")
        elif previous[key] != current[key]:
            lines.append(
                f"• {text('change_changed', language)}: {launch.name} — {launch.summary.get(language)}"
            )
    for fact in knowledge.facts.values():
        if fact.id in covered or (topic is not None and fact.id not in in_theme):
            continue
        key = f"fact:{fact.id}"
        label = (
            "change_new"
            if key not in previous
            else "change_changed"
            if previous[key] != current[key]
            else None
        )
        if label is not None:
            lines.append(f"• {text(label, language)}: {fact.answer.get(language)}")
    if not lines:
        return None
    shown = [_shorten(line) for line in lines[:MAX_LINES]]
    if len(lines) > MAX_LINES:
        shown.append(text("change_more", language, count=len(lines) - MAX_LINES))
    return Section(heading=text("digest_changes", language), text="\n".join(shown))
