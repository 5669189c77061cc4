"""Properties of a product that an answer states in so many words or does not give at all.

"Which regions is Lambda Managed Instances in?" names the product and so matches LMI's overview,
but the overview says nothing of regions: the honest answer is "I don't know". A question that asks
for one of these properties is answered only by a fact whose answer (in either language) says it.
"""

from __future__ import annotations

import re

from knowledge.normalize import is_han

PROPERTIES: dict[str, tuple[str, ...]] = {
    "region": ("region", "regions", "区域", "地区", "可用区"),
    "clock speed": ("clock", "clocked", "frequency", "主频", "频率"),
    "power draw": ("tdp", "wattage", "功耗"),
    "process node": ("nm", "nanometer", "nanometre", "process node", "制程", "纳米", "工艺"),
    "quota": ("quota", "quotas", "配额"),
    "SLA": ("sla", "uptime"),
    "license": ("license", "licence", "licensing", "许可证", "开源协议"),
    "maximum": ("max", "maximum", "最大能", "最大支持", "最多能", "最多支持", "上限"),
    "general availability": ("ga", "generally available", "general availability", "正式可用", "全面可用"),
}
"""Properties people ask of a product that an answer either states in so many words or does not
give at all ("which regions is LMI in?" is not answered by what LMI is): each with the words that
ask for it and that an answer giving it would use."""

STATED_AS: dict[str, tuple[str, ...]] = {
    "maximum": ("up to", "最多", "至多", "多达", "最高"),
    "general availability": ("正式发布", "正式上线", "全面上线"),
}
"""Other words an answer uses to state a property: a maximum is "up to 2 billion". (A preview is not
general availability: "when does M9g go GA?" is not answered by its preview.)"""


def _pattern(spellings: tuple[str, ...]) -> re.Pattern[str]:
    """Latin spellings as words of their own (`3nm` says nm, `slack` does not say sla), Chinese ones
    anywhere."""
    return re.compile(
        "|".join(re.escape(s) if is_han(s) else rf"(?<![a-z]){re.escape(s)}(?![a-z])" for s in spellings)
    )


_ASKED = {name: _pattern(spellings) for name, spellings in PROPERTIES.items()}
_NOT_ASKED = re.compile(r"\bmax(?:es|ed|ing)? out\b")
"""Words that look like a property's and are not: to "max out" utilisation asks for no maximum."""
_STATED = {name: _pattern(spellings + STATED_AS.get(name, ())) for name, spellings in PROPERTIES.items()}
_SPELLINGS = tuple(spelling for spellings in PROPERTIES.values() for spelling in spellings)


def asked_properties(text: str) -> tuple[str, ...]:
    """The properties a question (lower-cased) asks for; most ask for none, and a question without
    any spelling in it is not searched."""
    if not any(spelling in text for spelling in _SPELLINGS):
        return ()
    text = _NOT_ASKED.sub(" ", text)
    return tuple(name for name, pattern in _ASKED.items() if pattern.search(text))


def missing_properties(asked: tuple[str, ...], answer_en: str, answer_zh: str) -> list[str]:
    """The properties asked for that neither of the fact's answers gives."""
    if not asked:
        return []
    answers = f"{answer_en} {answer_zh}".casefold()
    return [name for name in asked if not _STATED[name].search(answers)]
