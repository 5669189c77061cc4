"""The digest: every launch in one line, grouped by keynote and theme, short enough to read as one message.

A digest topic is a theme (`ai-chips`), a pack (`orbit-summit-2030/`) or a pack's theme
(`orbit-summit-2030/chips`): what `/digest TOPIC` and a subscription's stored topic hold.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from rapidfuzz import fuzz, process

from bot.replies import Reply, Section
from bot.texts import keynote_event, status_label, text
from knowledge.loader import Knowledge
from knowledge.models import Language, Launch


def _topic_names(knowledge: Knowledge) -> dict[str, str]:
    """Every way to name a topic, folded, to the topic it names."""
    several = len(knowledge.packs) > 1
    names: dict[str, str] = {}
    for pack in knowledge.packs.values():
        for theme in pack.themes:
            for name in (theme.id, theme.id.replace("-", " "), theme.en, theme.zh):
                names.setdefault(name.casefold(), theme.id)
        if several:
            for name in (pack.id, pack.title.en, pack.title.zh, pack.event):
                names.setdefault(name.casefold(), f"{pack.id}/")
    for launch_id, launch in knowledge.launches.items():
        pack_id = knowledge.launch_packs.get(launch_id, "")
        topic = f"{pack_id}/{launch.theme}" if several else launch.theme
        for name in (launch.id, launch.name, *launch.aliases):
            names.setdefault(name.casefold(), topic)
    return names


def resolve_topic(knowledge: Knowledge, topic: str) -> str | None:
    """A topic from a theme's id or label, a keynote's name, or one of its launches; typos allowed."""
    names = _topic_names(knowledge)
    key = " ".join(topic.casefold().split())
    if key in names:
        return names[key]
    best = process.extractOne(key, list(names), scorer=fuzz.WRatio, score_cutoff=85)
    return names[best[0]] if best else None


def selected(knowledge: Knowledge, topic: str | None) -> list[Launch]:
    """The launches a topic covers, all of them without one."""
    pack, slash, theme = (topic or "").rpartition("/") if "/" in (topic or "") else ("", "", topic or "")
    return [
        launch
        for launch_id, launch in knowledge.launches.items()
        if (not slash or knowledge.launch_packs.get(launch_id) == pack)
        and (not theme or launch.theme == theme)
    ]


def topic_label(knowledge: Knowledge, topic: str, language: Language) -> str:
    """A topic in words: the theme's label, the keynote's title, or both."""
    pack_id, slash, theme_id = topic.rpartition("/") if "/" in topic else ("", "", topic)
    packs = [knowledge.packs[pack_id]] if pack_id in knowledge.packs else list(knowledge.packs.values())
    theme = next((t for p in packs if (t := p.theme(theme_id)) is not None), None) if theme_id else None
    parts = [knowledge.packs[pack_id].title.get(language)] if slash and pack_id in knowledge.packs else []
    parts += [theme.get(language)] if theme else ([theme_id] if theme_id else [])
    return " · ".join(parts)


def by_theme(
    knowledge: Knowledge, launches: Iterable[Launch], line: Callable[[Launch], str], language: Language
) -> list[Section]:
    """One section per theme that has launches, in each pack's theme order, one line per launch; with
    several packs the sections go keynote by keynote and are headed with the keynote too."""
    chosen = {launch.id for launch in launches}
    several = len(knowledge.packs) > 1
    sections = []
    for pack in knowledge.packs.values():
        in_pack = [
            launch
            for launch_id, launch in knowledge.launches.items()
            if launch.id in chosen and knowledge.launch_packs.get(launch_id) == pack.id
        ]
        for theme in pack.themes:
            lines = [line(launch) for launch in in_pack if launch.theme == theme.id]
            if lines:
                heading = (
                    f"{pack.title.get(language)} · {theme.get(language)}" if several else theme.get(language)
                )
                sections.append(Section(heading=heading, text="\n".join(lines)))
    return sections


def digest_reply(knowledge: Knowledge, topic: str, language: Language) -> Reply:
    """The digest for `topic`: words a user typed, or a topic as stored with a subscription."""
    chosen: str | None = None
    if topic.strip():
        stored = topic.strip()
        chosen = (
            stored
            if selected(knowledge, stored) and _is_topic(knowledge, stored)
            else resolve_topic(knowledge, topic)
        )
        if chosen is None:
            labels = ", ".join(sorted({t.get(language) for p in knowledge.packs.values() for t in p.themes}))
            return Reply.error(
                text("digest_unknown_topic", language, topic=topic.strip()),
                language,
                text("digest_topics", language, topics=labels),
            )

    def line(launch: Launch) -> str:
        return f"• {launch.name} ({status_label(launch.status, language)}): {launch.summary.get(language)}"

    return Reply(
        kind="digest",
        language=language,
        title=text("digest_title", language, event=keynote_event(knowledge, language)),
        sections=by_theme(knowledge, selected(knowledge, chosen), line, language),
        source=text("launches_hint", language),
    )


def _is_topic(knowledge: Knowledge, topic: str) -> bool:
    """`topic` is already a topic's stored form (a theme id, `pack/` or `pack/theme`)."""
    pack, slash, theme = topic.rpartition("/") if "/" in topic else ("", "", topic)
    if slash and pack not in knowledge.packs:
        return False
    return not theme or any(p.theme(theme) for p in knowledge.packs.values())
