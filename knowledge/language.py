"""Which language to answer in: Chinese when the question is mostly Chinese, English otherwise."""

from __future__ import annotations

import re

from knowledge.models import Language
from knowledge.normalize import strip_markup

_HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_LATIN_WORD = re.compile(r"[A-Za-z]+")
_LAST_LETTER = re.compile(
    r"([A-Za-z\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff])[^A-Za-z\u3400-\u9fff\uf900-\ufaff]*$"
)


def detect_language(text: str) -> Language:
    """Chinese if Han characters outnumber Latin words (`Graviton5有多少核心`), or if the question
    ends in Chinese (`S3 Vectors GA了吗`): a Chinese sentence ends with its particles.

    Mentions and links are not part of the question: `<@U123> 谁是CEO` is Chinese too.
    """
    text = strip_markup(text)
    han = len(_HAN.findall(text))
    if han == 0:
        return "en"
    last = _LAST_LETTER.search(text)
    ends_in_chinese = last is not None and bool(_HAN.match(last.group(1)))
    return "zh" if ends_in_chinese or han >= len(_LATIN_WORD.findall(text)) else "en"
