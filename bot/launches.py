"""Launch cards (`/launch NAME`) and the list of launches (`/launch`)."""

from __future__ import annotations

from bot.replies import Button, KeyValue, Reply, Section
from bot.texts import THEMES, status_label, text, theme_label
from knowledge.loader import Knowledge
from knowledge.matcher import Matcher
from knowledge.models import Language, Launch


def launch_card(knowledge: Knowledge, launch: Launch, language: Language) -> Reply:
    facts = knowledge.launch_facts(launch)
    fields = [KeyValue(name=text("status", language), value=launch.status_note.get(language))]
    if launch.customers:
        fields.append(KeyValue(name=text("customers", language), value=", ".join(launch.customers)))
    source = text("source", language, timestamp=launch.timestamp)
    if launch.speaker:
        source += f" · {launch.speaker}"
    return Reply(
        kind="launch",
        language=language,
        title=f"{launch.name} ({status_label(launch.status, language)})",
        sections=[
            Section(text=launch.summary.get(language)),
            Section(text=launch.details.get(language)),
            Section(
                heading=text("key_facts", language),
                text="\n".join(f"• {fact.answer.get(language)}" for fact in facts),
            ),
        ],
        fields=fields,
        source=source,
    )


def launch_list(knowledge: Knowledge, language: Language) -> Reply:
    sections = []
    for theme in THEMES:
        launches = [launch for launch in knowledge.launches.values() if launch.theme == theme]
        if launches:
            lines = [f"• {launch.name} ({status_label(launch.status, language)})" for launch in launches]
            sections.append(Section(heading=theme_label(theme, language), text="\n".join(lines)))
    return Reply(
        kind="launches",
        language=language,
        title=text("launches_title", language),
        sections=sections,
        source=text("launches_hint", language),
    )


def launch_reply(knowledge: Knowledge, matcher: Matcher, name: str, language: Language) -> Reply:
    if not name.strip():
        return launch_list(knowledge, language)
    lookup = matcher.find_launch(name)
    if lookup.launch is not None:
        return launch_card(knowledge, lookup.launch, language)
    closest = list(lookup.suggestions)
    return Reply(
        kind="error",
        language=language,
        private=True,
        sections=[Section(text=text("launch_unknown", language, name=name.strip()))],
        suggestions=[launch.name for launch in closest],
        buttons=[Button(label=launch.name, action="launch", value=launch.id) for launch in closest],
        title=None,
    )
