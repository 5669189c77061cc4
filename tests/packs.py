"""A made-up keynote as a pack, for tests that must not see the bundled re:Invent knowledge."""

from __future__ import annotations

from pathlib import Path

PACK = """\
id: {id}
title: {{en: "{title}", zh: "{title_zh}"}}
event: {event}
speakers: [{speaker}]
themes:
  - {{id: chips, en: Chips, zh: 芯片}}
  - {{id: tools, en: Tools, zh: 工具}}
topics:
  - {{id: {topic}, en: {product}, zh: {product}}}
examples:
  en: ["How fast is {product}?"]
  zh: ["{product}有多快？"]
"""

FACTS = """\
facts:
  - id: {fact_id}
    topic: {topic}
    timestamp: "12:00"
    speaker: {speaker}
    questions:
      en: ["How fast is {product}?", "{product} speed"]
      zh: ["{product}有多快？"]
    answer:
      en: "{product} runs {number} trillion operations per second."
      zh: "{product}每秒运行{number}万亿次运算。"
    keywords: [{product}]
launches:
  - id: {launch_id}
    name: {product}
    theme: chips
    status: announced
    status_note: {{en: Announced on stage, zh: 现场发布}}
    timestamp: "12:00"
    summary: {{en: "A chip called {product}.", zh: "名为{product}的芯片。"}}
    details: {{en: "{product} is a chip.", zh: "{product}是一款芯片。"}}
    facts: [{fact_id}]
"""


def write_pack(
    directory: Path,
    pack_id: str = "galaxy-devcon-2031",
    title: str = "Galaxy DevCon 2031 opening keynote",
    event: str = "Galaxy DevCon 2031",
    product: str = "Nebula9",
    speaker: str = "Ada Quill",
    number: int = 42,
    fact_id: str = "speed",
) -> Path:
    """A valid pack with one fact and one launch, in `directory` (created)."""
    directory.mkdir(parents=True, exist_ok=True)
    topic = product.lower()
    (directory / "pack.yaml").write_text(
        PACK.format(
            id=pack_id,
            title=title,
            title_zh=title + "（中文）",
            event=event,
            speaker=speaker,
            topic=topic,
            product=product,
        ),
        encoding="utf-8",
    )
    (directory / "facts.yaml").write_text(
        FACTS.format(
            fact_id=fact_id, topic=topic, speaker=speaker, product=product, number=number, launch_id=topic
        ),
        encoding="utf-8",
    )
    return directory
