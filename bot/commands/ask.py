"""`/ask` and plain questions: the answer with its source, or an honest "don't know" with suggestions."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.context import Context
from bot.replies import Button, Reply, Section, tagged
from bot.texts import examples, keynote_name, source_line, text
from knowledge.loader import Knowledge
from knowledge.matcher import Answer
from knowledge.models import Language

if TYPE_CHECKING:
    from bot.app import Bot


def answer_reply(answer: Answer, knowledge: Knowledge) -> Reply:
    language = answer.language
    if answer.answered and answer.fact is not None:
        fact = answer.fact
        several = len(knowledge.packs) > 1 and answer.pack in knowledge.packs
        keynote = knowledge.packs[answer.pack].title.get(language) if several and answer.pack else None
        return Reply(
            kind="answer",
            language=language,
            sections=_answer_sections(answer, knowledge),
            source=source_line(fact.timestamp, fact.speaker, language, keynote),
            fact_id=fact.id,
            buttons=[
                Button(label="👍", action="feedback_up", value=tagged(fact.id, language)),
                Button(label="👎", action="feedback_down", value=tagged(fact.id, language)),
            ],
        )
    suggestions = [s.question for s in answer.suggestions]
    return Reply(
        kind="abstain",
        language=language,
        sections=[Section(text=text("dont_know", language, keynote=keynote_name(knowledge, language)))],
        suggestions=suggestions,
        buttons=[Button(label=q, action="ask", value=q) for q in suggestions],
    )


def _answer_sections(answer: Answer, knowledge: Knowledge) -> list[Section]:
    """One section per answered part of a two-part question, and a word on any part not covered."""
    if not answer.parts:
        return [Section(text=answer.text)]
    sections: list[Section] = []
    for part in answer.parts:
        if part.answered:
            if all(section.text != part.text for section in sections):
                sections.append(Section(text=part.text))
        else:
            keynote = keynote_name(knowledge, answer.language)
            sections.append(
                Section(text=text("part_unknown", answer.language, part=part.question, keynote=keynote))
            )
    return sections


async def run(bot: Bot, args: str, ctx: Context, language: Language) -> Reply:
    return bot.ask(args, ctx)


def small_talk_reply(knowledge: Knowledge, language: Language) -> Reply:
    """A friendly word back: what the bot is for, where `/help` is, and two questions to try."""
    questions = examples(knowledge, language)
    return Reply(
        kind="notice",
        language=language,
        sections=[
            Section(text=text("small_talk", language, keynote=keynote_name(knowledge, language))),
            Section(text="\n".join(questions)),
        ],
        buttons=[Button(label=question, action="ask", value=question) for question in questions],
    )
