"""The JSON Schema of a knowledge file, published for curators' editors (`python -m bot schema`)."""

from __future__ import annotations

import json
from pathlib import Path

from knowledge.models import KnowledgeFile

SCHEMA_PATH = Path(__file__).parent / "schema.json"


def schema_text() -> str:
    schema = KnowledgeFile.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "keynote-bot knowledge file"
    return json.dumps(schema, indent=2, ensure_ascii=False, sort_keys=True) + "\n"
