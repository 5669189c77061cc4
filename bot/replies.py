"""The neutral reply: what every command returns and every adapter renders in its own format.

Texts are plain (no platform markup): an adapter escapes and styles them for its platform, and
splits them with `split_text` when the platform's limits require.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from knowledge.models import Language

ReplyKind = Literal["answer", "abstain", "launch", "launches", "digest", "help", "notice", "error"]
ActionId = Literal["ask", "launch", "feedback_up", "feedback_down"]


class Section(BaseModel):
    model_config = ConfigDict(frozen=True)

    heading: str | None = None
    text: str


class KeyValue(BaseModel):
    model_config = ConfigDict(frozen=True)

    name: str
    value: str


class Button(BaseModel):
    """A button whose click comes back to the bot as `Bot.action(action, value, ...)`."""

    model_config = ConfigDict(frozen=True)

    label: str
    action: ActionId
    value: str


def tagged(value: str, language: Language) -> str:
    """A button value that remembers its reply's language, so the click is answered in it too.

    Only ids are tagged (launch and fact ids never contain a colon); a suggested question carries
    its language in its own words.
    """
    return f"zh:{value}" if language == "zh" else value


def untagged(value: str) -> tuple[str, Language]:
    return (value.removeprefix("zh:"), "zh") if value.startswith("zh:") else (value, "en")


class Reply(BaseModel):
    model_config = ConfigDict(frozen=True)

    kind: ReplyKind
    language: Language = "en"
    title: str | None = None
    sections: list[Section] = Field(default_factory=list)
    fields: list[KeyValue] = Field(default_factory=list)
    source: str | None = Field(default=None, description="Where in the keynote this comes from.")
    suggestions: list[str] = Field(default_factory=list)
    buttons: list[Button] = Field(default_factory=list)
    private: bool = Field(default=False, description="Errors and usage hints: shown only to the asker.")
    fact_id: str | None = None

    @classmethod
    def error(
        cls,
        message: str,
        language: Language,
        *extra: str,
        suggestions: list[str] | None = None,
        buttons: list[Button] | None = None,
    ) -> Reply:
        """A private reply saying what went wrong; `extra` adds sections (a usage line, a list)."""
        return cls(
            kind="error",
            language=language,
            private=True,
            sections=[Section(text=part) for part in (message, *extra)],
            suggestions=suggestions or [],
            buttons=buttons or [],
        )

    @classmethod
    def notice(cls, message: str, language: Language, *, private: bool = True) -> Reply:
        """A short confirmation: private unless the whole channel should see it (a new subscription)."""
        return cls(kind="notice", language=language, private=private, sections=[Section(text=message)])

    def plain_text(self) -> str:
        """The whole reply as plain text: for logs, fallbacks and platforms without rich layout."""
        parts: list[str] = []
        if self.title:
            parts.append(self.title)
        for section in self.sections:
            parts.append(f"{section.heading}\n{section.text}" if section.heading else section.text)
        parts.extend(f"{kv.name}: {kv.value}" for kv in self.fields)
        if self.suggestions:
            parts.append("\n".join(f"• {s}" for s in self.suggestions))
        if self.source:
            parts.append(self.source)
        return "\n\n".join(parts)


def split_text(text: str, limit: int) -> list[str]:
    """Cut text into pieces of at most `limit` characters, preferring paragraph, line, then word ends."""
    if limit <= 0:
        raise ValueError("limit must be positive")
    pieces: list[str] = []
    rest = text
    while len(rest) > limit:
        window = rest[: limit + 1]
        cut = next(
            (at for sep in ("\n\n", "\n", " ") if (at := window.rfind(sep, 0, limit)) >= limit // 2),
            limit,
        )
        pieces.append(rest[:cut].rstrip())
        rest = rest[cut:].lstrip()
    if rest or not pieces:
        pieces.append(rest)
    return pieces
