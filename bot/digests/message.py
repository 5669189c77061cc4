"""The digest: every launch in one line, grouped by theme, short enough to read as one message."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from rapidfuzz import fuzz, process

from bot.replies import Reply, Section
from bot.texts import THEMES, status_label, text, theme_label
from knowledge.loader import Knowledge
from knowledge.models import Language, Launch, Theme


def _topic_names(knowledge: Knowledge) -> dict[str, Theme]:
    names: dict[str, Theme] = {}
    for theme, labels in THEMES.items():
        for name in (theme, theme.replace("-", " "), *labels):
            names[name.casefold()] = theme
    for launch in knowledge.launches.values():
        for name in (launch.id, launch.name, *launch.aliases):
            names.setdefault(name.casefold(), launch.theme)
    return names


def resolve_topic(knowledge: Knowledge, topic: str) -> Theme | None:
    """A theme from its id, English or Chinese label, or the name of one of its launches; typos allowed."""
    names = _topic_names(knowledge)
    key = " ".join(topic.casefold().split())
    if key in names:
        return names[key]
    best = process.extractOne(key, list(names), scorer=fuzz.WRatio, score_cutoff=85)
    return names[best[0]] if best else None


def by_theme(
    knowledge: Knowledge, themes: Iterable[Theme], line: Callable[[Launch], str], language: Language
) -> list[Section]:
    """One section per theme that has launches, in the themes' order, one line per launch."""
    sections = []
    for theme in themes:
        lines = [line(launch) for launch in knowledge.launches.values() if launch.theme == theme]
        if lines:
            sections.append(Section(heading=theme_label(theme, language), text="\n".join(lines)))
    return sections


def digest_reply(knowledge: Knowledge, topic: str, language: Language) -> Reply:
    themes: list[Theme] = list(THEMES)
    if topic.strip():
        theme = resolve_topic(knowledge, topic)
        if theme is None:
            labels = ", ".join(theme_label(t, language) for t in THEMES)
            return Reply.error(
                text("digest_unknown_topic", language, topic=topic.strip()),
                language,
                text("digest_topics", language, topics=labels),
            )
        themes = [theme]

    def line(launch: Launch) -> str:
        return f"• {launch.name} ({status_label(launch.status, language)}): {launch.summary.get(language)}"

    return Reply(
        kind="digest",
        language=language,
        title=text("digest_title", language),
        sections=by_theme(knowledge, themes, line, language),
        source=text("launches_hint", language),
    )
