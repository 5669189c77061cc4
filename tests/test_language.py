"""The answer's language follows the question's."""

from __future__ import annotations

import pytest

from knowledge.language import detect_language


@pytest.mark.parametrize(
    ("question", "language"),
    [
        ("How many cores does Graviton5 have?", "en"),
        ("Graviton5有多少个核心？", "zh"),
        ("Graviton4的L2缓存是多少？", "zh"),
        ("TwelveLabs的CEO是谁", "zh"),
        ("<@U12345> <#C1|general> 谁是CEO", "zh"),
        ("What does 机密计算 mean in Project Mantle for Bedrock customers?", "en"),
        ("S3 Vectors GA了吗", "zh"),
        ("Lambda Managed Instances 支持吗？", "zh"),
        ("", "en"),
        ("???", "en"),
        ("ｇｒａｖｉｔｏｎ５", "en"),
    ],
)
def test_language_of_question(question: str, language: str) -> None:
    assert detect_language(question) == language
