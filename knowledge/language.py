"""Which language to answer in: Chinese when the question is mostly Chinese, English otherwise."""

from __future__ import annotations

import re

from knowledge.models import Language
from knowledge.normalize import strip_markup

_HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_LATIN_WORD = re.compile(r"[A-Za-z]+")


def detect_language(text: str) -> Language:
    """Chinese if Han characters outnumber Latin words: `Graviton5有多少核心` is Chinese.

    Mentions and links are not part of the question: `<@U123> 谁是CEO` is Chinese too.
    """
    text = strip_markup(text)
    han = len(_HAN.findall(text))
    if han == 0:
        return "en"
    return "zh" if han >= len(_LATIN_WORD.findall(text)) else "en"
