"""The JSON Schema of a pack's files (`pack.yaml` and facts files), published for curators' editors
(`python -m bot schema`)."""

from __future__ import annotations

import json
from pathlib import Path

from pydantic import TypeAdapter

from knowledge.models import KnowledgeFile, Pack

SCHEMA_PATH = Path(__file__).parent / "schema.json"


def schema_text() -> str:
    schema = TypeAdapter(KnowledgeFile | Pack).json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "keynote-bot knowledge: a facts file, or a pack's pack.yaml"
    return json.dumps(schema, indent=2, ensure_ascii=False, sort_keys=True) + "\n"
