"""The shape of curated knowledge: what a YAML file under `knowledge/facts/` may contain.

These models are the contract with curators; `python -m bot schema` publishes them as JSON Schema
so an editor can validate and autocomplete the YAML while it is being written.
"""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator

Language = Literal["en", "zh"]
LANGUAGES: tuple[Language, ...] = ("en", "zh")

Id = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9-]*$", max_length=80)]
Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]
Timestamp = Annotated[str, StringConstraints(pattern=r"^(\d{1,2}:)?\d{1,2}:\d{2}$")]

Theme = Literal["compute", "serverless", "inference", "vector-search", "ai-chips"]
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
