"""What a reply numbers in the console, so that typing the number picks it, and what `+` and `-` rate.

Every list the console numbers can be picked, and nothing unnumbered can: the renderer numbers exactly
the choices of the reply's `Menu`. A reply's numbered items come from its neutral content:

- a line of a section that shows a clickable button's label (`• Graviton5 (Preview)` for a launch
  button labelled `Graviton5`, a small-talk example question) is numbered where it stands;
- its suggestions are numbered after the sections, each clicking the button with its label, or, with
  no such button, sent as if typed: a suggested command (`/launch` after `/lanch trn3`) keeps the
  words that followed the mistyped one, so `1` runs `/launch trn3`;
- a clickable button shown nowhere else is numbered after the suggestions.

A reply's feedback buttons (👍/👎) are what `+` and `-` click.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from bot.replies import Button, Reply

FEEDBACK = frozenset({"feedback_up", "feedback_down"})
_BULLET = re.compile(r"^(?P<indent>\s*)(?:[•*-]\s+)?(?P<body>.*?)\s*$")


@dataclass(frozen=True)
class Choice:
    """One numbered item: its button is clicked through `Bot.action`; without one, `label` is typed."""

    label: str
    button: Button | None = None


@dataclass(frozen=True)
class Menu:
    choices: tuple[Choice, ...] = ()
    """In the order they are numbered: `choices[0]` is 1."""
    inline: Mapping[tuple[int, int], int] = field(default_factory=dict)
    """(section index, line index) → index in `choices` of the line numbered where it stands."""
    listed: int = 0
    """`choices[listed:]` are the list shown after the sections (suggestions, then other buttons)."""
    up: Button | None = None
    down: Button | None = None

    def pick(self, number: int) -> Choice | None:
        return self.choices[number - 1] if 1 <= number <= len(self.choices) else None


def split_line(line: str) -> tuple[str, str]:
    """A section line's indentation and its words without a list bullet."""
    match = _BULLET.match(line)
    assert match is not None, "the pattern matches every line"
    return match["indent"], match["body"]


def menu(reply: Reply, typed: str = "") -> Menu:
    """The numbered choices of `reply`, given the line the user typed to get it."""
    clickable = [button for button in reply.buttons if button.action not in FEEDBACK]
    suggested: list[Choice] = []
    for suggestion in reply.suggestions:
        button = next((b for b in clickable if b.label == suggestion), None)
        if button is not None:
            clickable.remove(button)
            suggested.append(Choice(suggestion, button))
        else:
            suggested.append(Choice(_typed_again(suggestion, typed)))

    inline_choices: list[Choice] = []
    inline: dict[tuple[int, int], int] = {}
    for s, section in enumerate(reply.sections):
        for n, line in enumerate(section.text.split("\n")):
            _, body = split_line(line)
            shown = [b for b in clickable if body == b.label or body.startswith(b.label + " ")]
            if shown:
                button = max(shown, key=lambda b: len(b.label))
                clickable.remove(button)
                inline[(s, n)] = len(inline_choices)
                inline_choices.append(Choice(button.label, button))

    rest = [Choice(button.label, button) for button in clickable]
    feedback = {button.action: button for button in reply.buttons if button.action in FEEDBACK}
    return Menu(
        choices=(*inline_choices, *suggested, *rest),
        inline=inline,
        listed=len(inline_choices),
        up=feedback.get("feedback_up"),
        down=feedback.get("feedback_down"),
    )


def _typed_again(suggestion: str, typed: str) -> str:
    """A suggested command replaces the mistyped one and keeps its words: `/lanch trn3` → `/launch trn3`."""
    command, _, words = typed.strip().partition(" ")
    if re.fullmatch(r"/\S+", suggestion) and command.startswith("/") and words.strip():
        return f"{suggestion} {words.strip()}"
    return suggestion
