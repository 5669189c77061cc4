"""Launch cards (`/launch NAME`) and the list of launches (`/launch`)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.context import Context
from bot.digests.message import by_theme
from bot.replies import Button, KeyValue, Reply, Section, tagged
from bot.texts import keynote_name, source_line, status_label, text
from knowledge.loader import Knowledge
from knowledge.matcher import Matcher
from knowledge.models import Language, Launch

if TYPE_CHECKING:
    from bot.app import Bot

KEY_FACTS = 5
"""A card is read in a chat: the curated first facts of a launch, the rest are a question away."""


def launch_card(knowledge: Knowledge, launch: Launch, language: Language) -> Reply:
    facts = knowledge.launch_facts(launch)[:KEY_FACTS]
    fields = [KeyValue(name=text("status", language), value=launch.status_note.get(language))]
    if launch.customers:
        fields.append(KeyValue(name=text("customers", language), value=", ".join(launch.customers)))
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
        source=source_line(launch.timestamp, launch.speaker, language, _keynote(knowledge, launch, language)),
    )


def _keynote(knowledge: Knowledge, launch: Launch, language: Language) -> str | None:
    """With several packs, the keynote a launch was announced at."""
    if len(knowledge.packs) < 2 or launch.id not in knowledge.launch_packs:
        return None
    return knowledge.pack_of_launch(launch.id).title.get(language)


LIST_BUTTONS = 25
"""A button per launch in the list, up to what Slack's and Discord's messages hold."""


def launch_list(knowledge: Knowledge, language: Language) -> Reply:
    """Every launch by keynote and theme, each a button (a number in the console) that opens its card."""
    return Reply(
        kind="launches",
        language=language,
        title=text("launches_title", language, keynote=keynote_name(knowledge, language)),
        sections=by_theme(
            knowledge,
            knowledge.launches.values(),
            lambda launch: f"• {launch.name} ({status_label(launch.status, language)})",
            language,
        ),
        source=text("launches_hint", language),
        buttons=[
            Button(label=launch.name, action="launch", value=tagged(launch.id, language))
            for launch in list(knowledge.launches.values())[:LIST_BUTTONS]
        ],
    )


def launch_reply(knowledge: Knowledge, matcher: Matcher, name: str, language: Language) -> Reply:
    if not name.strip():
        return launch_list(knowledge, language)
    lookup = matcher.find_launch(name)
    if lookup.launch is not None:
        return launch_card(knowledge, lookup.launch, language)
    closest = list(lookup.suggestions)
    return Reply.error(
        text("launch_unknown", language, name=name.strip()),
        language,
        suggestions=[launch.name for launch in closest],
        buttons=[
            Button(label=launch.name, action="launch", value=tagged(launch.id, language))
            for launch in closest
        ],
    )


async def run(bot: Bot, args: str, ctx: Context, language: Language) -> Reply:
    snapshot = bot.live.current
    return launch_reply(snapshot.knowledge, snapshot.matcher, args, language)
