"""`python -m bot new-pack`: start a pack that is valid from its first minute.

It writes `pack.yaml`, one example fact and one example launch, and the JSON Schema beside them, so
the `# yaml-language-server: $schema=schema.json` line works wherever the pack is moved.
"""

from __future__ import annotations

import datetime
from pathlib import Path

import yaml
from pydantic import ValidationError

from knowledge.loader import PACK_FILE, explain, load_knowledge
from knowledge.models import Pack
from knowledge.schema import schema_text

SCHEMA_LINE = "# yaml-language-server: $schema=schema.json\n"


class ScaffoldError(Exception):
    """The pack cannot be written where it was asked (the message says why)."""


def new_pack(
    directory: Path,
    pack_id: str,
    title: str,
    event: str | None = None,
    date: datetime.date | None = None,
    title_zh: str | None = None,
) -> list[Path]:
    """Write a new pack into `directory` (new or empty) and return the files written; the pack is
    loaded back before returning, so what is written is known to be valid."""
    if directory.exists() and any(directory.iterdir()):
        raise ScaffoldError(f"{directory} is not empty: choose a new directory for the pack")
    try:
        pack = Pack.model_validate(
            {
                "id": pack_id,
                "title": {"en": title, "zh": title_zh or title},
                "event": event or title,
                "date": date,
                "speakers": ["Keynote Speaker"],
                "themes": [{"id": "general", "en": "General", "zh": "综合"}],
                "examples": {"en": ["What is the example product?"], "zh": ["示例产品是什么？"]},
            }
        )
    except ValidationError as error:
        first = error.errors()[0]
        raise ScaffoldError(f"{'.'.join(str(part) for part in first['loc'])}: {explain(first)}") from None
    directory.mkdir(parents=True, exist_ok=True)
    header = f"{SCHEMA_LINE}# {pack.title.en}: the keynote this pack is about.\n"
    fields = pack.model_dump(mode="json", exclude_none=True, exclude_defaults=True)
    written = [
        _write(directory / PACK_FILE, header + yaml.safe_dump(fields, allow_unicode=True, sort_keys=False)),
        _write(directory / "facts.yaml", SCHEMA_LINE + _EXAMPLE),
        _write(directory / "schema.json", schema_text()),
    ]
    load_knowledge(directory)
    return written


def _write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


_EXAMPLE = """\
# One example fact and one example launch: replace them with what was said on stage.
facts:
  - id: example-product
    topic: example
    timestamp: "1:00"
    speaker: Keynote Speaker
    questions:
      en: [What is the example product?, example product]
      zh: [示例产品是什么？]
    answer:
      en: The example product is what this fact describes; replace it with a fact from the keynote.
      zh: 示例产品就是这条事实描述的内容；请替换为主题演讲中的事实。
    keywords: [Example Product]

launches:
  - id: example-product
    name: Example Product
    theme: general
    status: announced
    status_note: {en: Announced on stage, zh: 现场发布}
    timestamp: "1:00"
    speaker: Keynote Speaker
    summary: {en: An example launch., zh: 示例发布。}
    details:
      en: An example launch; replace it with one from the keynote.
      zh: 示例发布，请替换为主题演讲中的发布。
    facts: [example-product]
"""
