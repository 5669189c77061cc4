"""The shape of curated knowledge: a pack's `pack.yaml` and the facts files beside it.

These models are the contract with curators; `python -m bot schema` publishes them as JSON Schema
so an editor can validate and autocomplete the YAML while it is being written.
"""

from __future__ import annotations

import datetime
import re
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator

Language = Literal["en", "zh"]
LANGUAGES: tuple[Language, ...] = ("en", "zh")

Id = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9-]*$", max_length=80)]
Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]
Timestamp = Annotated[str, StringConstraints(pattern=r"^(\d{1,2}:)?\d{1,2}:\d{2}$")]

Theme = Id
"""A launch's theme: one of its pack's `themes`, checked by the loader."""
Status = Literal["ga", "preview", "coming", "announced"]
"""`announced`: presented on stage with no availability said; the others as said on stage."""


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Bilingual(Strict):
    """One text in both languages: every answer must exist in English and in Chinese."""

    en: Text
    zh: Text

    def get(self, language: Language) -> str:
        return self.zh if language == "zh" else self.en


class Variants(Strict):
    """Ways people ask for a fact, in both languages; the matcher matches against all of them."""

    en: Annotated[list[Text], Field(min_length=1)]
    zh: Annotated[list[Text], Field(min_length=1)]

    def get(self, language: Language) -> list[str]:
        return self.zh if language == "zh" else self.en


class Fact(Strict):
    id: Id
    topic: Id = Field(description="Section or subject the fact belongs to, e.g. `graviton`.")
    timestamp: Timestamp = Field(description="Where in the keynote it was said, e.g. `1:28:00`.")
    speaker: Text | None = None
    questions: Variants
    answer: Bilingual
    keywords: list[Text] = Field(
        default_factory=list,
        description="Aliases and keywords that identify the fact (names, abbreviations).",
    )
    kinds: list[Literal["person", "time", "number", "mechanism", "list"]] = Field(
        default_factory=list,
        description=(
            "Kinds of answer the fact gives beyond those read from its English answer (digits, dates and "
            "availability, a person's name or title, how something works, a list): state one when the "
            "answer gives it in words the bot cannot see, e.g. `person` for a fact naming someone."
        ),
    )

    def canonical_question(self, language: Language) -> str:
        return self.questions.get(language)[0]


class Launch(Strict):
    """A product or feature announced in the keynote, summarised as a card."""

    id: Id
    name: Text
    aliases: list[Text] = Field(default_factory=list)
    theme: Theme
    status: Status
    status_note: Bilingual = Field(description="The status as said on stage, with its date.")
    timestamp: Timestamp
    speaker: Text | None = None
    summary: Bilingual = Field(description="One line.")
    details: Bilingual = Field(description="The full summary.")
    facts: Annotated[list[Id], Field(min_length=1)] = Field(
        description="Ids of the facts that belong to this launch, most important first."
    )
    customers: list[Text] = Field(default_factory=list)

    @field_validator("aliases")
    @classmethod
    def _aliases_unique(cls, aliases: list[str]) -> list[str]:
        seen: set[str] = set()
        for alias in aliases:
            key = re.sub(r"\s+", " ", alias.casefold())
            if key in seen:
                raise ValueError(f"alias {alias!r} is listed twice")
            seen.add(key)
        return aliases


class KnowledgeFile(Strict):
    """One YAML file: usually one section of the keynote."""

    facts: list[Fact] = Field(default_factory=list)
    launches: list[Launch] = Field(default_factory=list)


class Label(Strict):
    """A theme or a topic: an id curators write, and its name in both languages."""

    id: Id
    en: Text
    zh: Text

    def get(self, language: Language) -> str:
        return self.zh if language == "zh" else self.en


class Examples(Strict):
    """Questions to try, shown by `/help`, the console banner and the reply to small talk."""

    en: Annotated[list[Text], Field(min_length=1)]
    zh: Annotated[list[Text], Field(min_length=1)]

    def get(self, language: Language) -> list[str]:
        return self.zh if language == "zh" else self.en


class Pack(Strict):
    """`pack.yaml`: the keynote a directory of facts is about. Every text that names the event (the
    digest's title, `/help`, the console banner, "I don't know that from the keynote") comes from here."""

    id: Id
    title: Bilingual = Field(
        description="The keynote's name, e.g. `AWS re:Invent 2025 infrastructure keynote`."
    )
    event: Text = Field(description="The conference, e.g. `AWS re:Invent 2025`.")
    date: datetime.date | None = Field(default=None, description="ISO date, only when a source gives it.")
    speakers: list[Text] = Field(default_factory=list)
    source: Text | None = Field(default=None, description="Where the keynote can be watched or read (a URL).")
    themes: Annotated[list[Label], Field(min_length=1)] = Field(
        description="Launch themes in display order; a launch's `theme` must be one of their ids."
    )
    topics: list[Label] = Field(
        default_factory=list,
        description="When given, a fact's `topic` must be one of these ids (so a typo is caught).",
    )
    examples: Examples

    def theme(self, theme_id: str) -> Label | None:
        return next((theme for theme in self.themes if theme.id == theme_id), None)
