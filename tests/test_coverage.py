"""The curated facts cover the whole seed summary: every number and every timeline line.

The seed (`reinvent-2025-keynote.zh.md`) is the source the facts were curated from. These tests read it
and fail when a number, a section, a heading or a bullet has no fact saying it, in both languages.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import pytest

from knowledge.loader import Knowledge
from knowledge.models import Fact, Language
from tests.skips import skip_or_fail

ROOT = Path(__file__).resolve().parent.parent
SEED = ROOT / "docs" / "seed" / "reinvent-2025-keynote.zh.md"

# Facts for each timeline entry of the seed: the heading first, then one item per bullet, in order.
# An item is a fact id, or a tuple of ids when a bullet holds several separate answers.
TIMELINE: dict[str, list[str | tuple[str, ...]]] = {
    "00:00": ["keynote-opening-topic", "keynote-replaces-werner", "keynote-opening-topic"],
    "02:30": ["core-attributes", "core-attributes", "core-attributes-ai-era"],
    "05:00": ["nitro-origin-2010", "nitro-origin-2010", "nitro-virtualization-tax", "nitro-textbook"],
    "15:00": [
        "graviton-presenter",
        "graviton-why-custom",
        ("graviton-customer-results", "graviton-adobe", "graviton-epic-games", "graviton-pinterest"),
    ],
    "18:00": [
        "graviton-direct-silicon-cooling",
        "graviton-traditional-cooling",
        "graviton-direct-silicon-cooling",
        "graviton-fan-power",
    ],
    "22:00": [
        "graviton-cache-hierarchy",
        "graviton-cache-hierarchy",
        "graviton4-l2-cache",
        "graviton-cache-misses",
    ],
    "28:00": ["graviton5-overview", "graviton5-cores", "graviton5-l3-cache", "graviton5-l3-per-core"],
    "30:00": [
        "m9g-preview",
        "m9g-performance",
        "m9g-price-performance",
        ("m9g-customers", "m9g-airbnb", "m9g-sap"),
    ],
    "35:00": ["apple-speaker", "apple-services-on-aws", "apple-services-on-aws"],
    "38:00": ["apple-swift-server", "apple-swift-server", "apple-swift-shared-code"],
    "40:00": [
        "apple-swift-graviton-performance",
        "apple-swift-graviton-performance",
        "apple-swift-graviton-cost",
        "apple-x86-to-arm",
    ],
    "42:00": [
        "apple-spam-detection",
        "apple-spam-detection",
        "apple-homomorphic-encryption",
        "amazon-linux-swift-toolchain",
    ],
    "45:00": ["lambda-origin-2013", "lambda-origin-2013", "lambda-serverless-concept"],
    "48:00": ["lambda-features", "lambda-launch-2014", "lambda-features"],
    "52:00": ["lambda-redefine-serverless", "ec2-lambda-teams-merged", "lambda-redefine-serverless"],
    "55:00": [
        "lmi-overview",
        "lmi-overview",
        "lmi-managed-operations",
        "lmi-no-code-changes",
        "lmi-use-cases",
    ],
    "58:00": ["inference-stage-resources", "inference-four-stages", "inference-stage-resources"],
    "1:02:00": ["mantle-overview", "mantle-overview", "mantle-service-tiers"],
    "1:06:00": [
        "mantle-queue-isolation",
        "mantle-queue-isolation",
        "mantle-adaptive-capacity",
        "mantle-adaptive-capacity",
    ],
    "1:09:00": ["mantle-journal", "mantle-journal", "mantle-journal", "mantle-journal-scheduling"],
    "1:11:00": [
        "bedrock-fine-tuning",
        "bedrock-fine-tuning",
        "bedrock-fine-tuning-pause",
        "bedrock-fine-tuning",
    ],
    "1:13:00": [
        "mantle-confidential-computing",
        "mantle-confidential-computing",
        "mantle-encrypted-processing",
        "mantle-attestation",
    ],
    "1:15:00": ["vector-concept", "vector-smokey", "vector-concept"],
    "1:18:00": ["embedding-models", "vector-dimensions", "embedding-models"],
    "1:20:00": [
        "enterprise-unstructured-data",
        "enterprise-unstructured-data",
        "traditional-embeddings-single-type",
    ],
    "1:22:00": [
        "nova-embeddings-modalities",
        "nova-embeddings-modalities",
        "nova-embeddings-unified-space",
        "nova-embeddings-accuracy",
    ],
    "1:24:00": ["aws-vector-integrations", "opensearch-hybrid-search", "aws-vector-integrations"],
    "1:26:00": ["s3-vectors-overview", "s3-vectors-overview", "s3-vectors-overview", "s3-vectors-ga"],
    "1:28:00": [
        "s3-vectors-how-it-works",
        "s3-vectors-how-it-works",
        "s3-vectors-how-it-works",
        "s3-vectors-query-latency",
        "s3-vectors-adoption",
    ],
    "1:30:00": ["twelvelabs-speaker", "twelvelabs-keynote-analysis", "twelvelabs-keynote-analysis"],
    "1:32:00": ["video-data-unstructured", "video-data-unstructured", "video-million-hours"],
    "1:34:00": ["twelvelabs-foundation-models", "twelvelabs-marengo", "twelvelabs-pegasus"],
    "1:36:00": [
        "twelvelabs-born-on-aws",
        "twelvelabs-born-on-aws",
        "twelvelabs-s3-data",
        "twelvelabs-s3-data",
    ],
    "1:38:00": [
        "twelvelabs-s3-vectors",
        "twelvelabs-s3-vectors",
        "twelvelabs-natural-language-search",
        "twelvelabs-natural-language-search",
    ],
    "1:40:00": ["arcxp-overview", "arcxp-overview", "arcxp-overview", "arcxp-twelvelabs"],
    "1:42:00": [
        "trainium-training-inference",
        "trainium-training-inference",
        "trainium-architectures",
        "trainium-modalities",
    ],
    "1:45:00": [
        "trn3-ultraserver-chips",
        "trn3-ultraserver-chips",
        "trn3-neuron-switch",
        "trn3-ultraserver-compute",
        "trn3-ultraserver-memory",
        "trn3-ultraserver-vs-previous",
    ],
    "1:48:00": [
        "trn3-sleds",
        "trn3-sleds",
        "trn3-three-chips",
        "trn3-top-serviceable",
        "trn3-dual-nitro",
        "trn3-efa",
    ],
    "1:52:00": [
        "trn3-microscaling",
        "trn3-microscaling",
        "trn3-microarch-ops",
        "trn3-memory-network-features",
        "trn3-memory-network-features",
    ],
    "1:55:00": ["nki-overview", "nki-overview", "nki-python", "nki-decart", "nki-availability"],
    "1:58:00": [
        ("neuron-profiler", "neuron-explorer"),
        "neuron-profiler",
        "neuron-profiler",
        "neuron-explorer",
    ],
    "2:01:00": [
        "trn3-benchmark-model",
        "trn3-benchmark-model",
        "trn3-tokens-per-megawatt",
        "trn3-benchmark-latency",
        "trn3-benchmark-open-source",
    ],
    "2:04:00": [
        "pytorch-neuron-device",
        "pytorch-neuron-device",
        "pytorch-neuron-device",
        "pytorch-neuron-availability",
    ],
    "2:10:00": ["decart-speaker", "decart-speaker", "decart-demo", "decart-demo"],
    "2:12:00": ["decart-technology", "decart-technology", "decart-technology", "decart-technology"],
    "2:14:00": [
        "decart-trainium3-nki",
        "decart-trainium3-nki",
        "decart-frame-rate",
        "decart-tensor-utilization",
    ],
    "2:16:00": [
        "decart-megakernel",
        "decart-megakernel",
        "decart-megakernel",
        "decart-megakernel-utilization",
    ],
    "2:17:00": ["decart-use-cases"] * 6,
    "2:20:00": ["closing-core-attributes", "closing-core-attributes", "closing-recap"],
    "2:22:00": ["closing-day-one"] * 4,
    "2:24:00": ["closing-werner-keynote"] * 3,
}

# Facts for each paragraph of the seed's overview (会议概述), in order.
OVERVIEW: list[tuple[str, ...]] = [
    ("keynote-presenter", "keynote-focus", "keynote-core-attributes-20-years", "keynote-custom-silicon"),
    ("keynote-announcements", "trainium3-energy-efficiency", "keynote-customers"),
    ("keynote-core-message",),
]
OVERVIEW_TIMESTAMP = "00:00"

# Chinese large-number units: how each seed number reads in English (the Chinese form is the seed's own).
CHINESE_UNIT_NUMBERS: dict[str, tuple[str, ...]] = {
    "20亿": ("2 billion",),
    "40亿": ("4 billion",),
    "10亿": ("1 billion",),
    "120亿": ("12 billion",),
    "25万": ("250000",),
    "100万": ("1 million",),
}

# Quantities the seed writes in words: (English forms, Chinese forms); any one form is enough.
WORD_NUMBERS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "六大": (("six",), ("六大",)),
    "第七版": (("seventh", "7th"), ("第七版",)),
    "四阶段": (("four stages",), ("四阶段", "四个阶段")),
    "两个机架": (("two racks",), ("两个机架",)),
    "三种": (("three",), ("三种",)),
    "三个组件": (("three components",), ("三个组件",)),
    "数十亿": (("billions",), ("数十亿",)),
    "数亿": (("hundreds of millions",), ("数亿",)),
    "数千台": (("thousands",), ("数千台",)),
    "第一天": (("Day One",), ("第一天",)),
    "Q1": (("Q1",), ("Q1",)),
}

# Units after a number: (English templates, Chinese templates) for "{n}".
UNITS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "%": (("{n}%",), ("{n}%",)),
    "倍": (("{n}x",), ("{n}倍",)),
    "MB": (("{n}MB",), ("{n}MB",)),
    "TB": (("{n}TB",), ("{n}TB",)),
    "毫秒": (("{n}ms",), ("{n}毫秒",)),
    "个月": (("{n} months",), ("{n}个月",)),
    "维": (("{n} dimensions",), ("{n}维",)),
    "核心": (("{n} cores",), ("{n}核心", "{n}个核心")),
    "年": (("{n} years",), ("{n}年",)),
}

# A number that is not part of a name such as Graviton5, M9g, L3, S3 or x86, with an optional unit.
NUMBER = re.compile(r"(?<![A-Za-z0-9.])(\d+(?:\.\d+)?)\s*(亿|万|倍|%|MB|TB|毫秒|个月|维|核心|年)?")
# A Latin-script name or term such as Graviton5, S3, C++ or GPT-OSS.
LATIN_WORD = re.compile(r"(?<![A-Za-z0-9])[A-Za-z][A-Za-z0-9+-]*")
ENTRY = re.compile(r"^((?:\d{1,2}:)?\d{1,2}:\d{2}) - (.+)$")


@dataclass(frozen=True)
class Quantity:
    """A number as the seed says it, with the forms an English and a Chinese answer may use."""

    seed: str
    en: tuple[str, ...]
    zh: tuple[str, ...]


@dataclass(frozen=True)
class Entry:
    timestamp: str
    heading: str
    bullets: tuple[str, ...]


@dataclass(frozen=True)
class Seed:
    overview: tuple[str, ...]
    entries: tuple[Entry, ...]


def seed_path() -> Path:
    """The seed committed with the facts (docs/seed), or another one named by KEYNOTE_SEED."""
    configured = os.environ.get("KEYNOTE_SEED")
    return Path(configured) if configured else SEED


def parse_seed(text: str) -> Seed:
    overview: list[str] = []
    entries: list[Entry] = []
    section = ""
    for raw in text.splitlines():
        line = raw.strip()
        if line.startswith("## "):
            section = line[3:]
            continue
        if not line or line.startswith("#"):
            continue
        if section == "会议概述":
            overview.append(line)
            continue
        match = ENTRY.match(line)
        if match:
            entries.append(Entry(match.group(1), match.group(2), ()))
        elif line.startswith("- ") and entries:
            last = entries[-1]
            entries[-1] = Entry(last.timestamp, last.heading, (*last.bullets, line[2:]))
    return Seed(tuple(overview), tuple(entries))


@pytest.fixture(scope="module")
def seed() -> Seed:
    return parse_seed(seed_path().read_text(encoding="utf-8"))


def seconds(timestamp: str) -> int:
    total = 0
    for part in timestamp.split(":"):
        total = total * 60 + int(part)
    return total


def quantities(text: str) -> list[Quantity]:
    """Every number in a seed line, with the ways an answer may say it."""
    found = []
    for match in NUMBER.finditer(text):
        number, unit = match.group(1), match.group(2)
        if unit in ("亿", "万"):
            said = number + unit
            found.append(Quantity(said, CHINESE_UNIT_NUMBERS[said], (said,)))
        elif unit == "年" and float(number) >= 1000:
            found.append(Quantity(number, (number,), (number,)))
        elif unit:
            en, zh = UNITS[unit]
            found.append(Quantity(number + unit, _fill(en, number), _fill(zh, number)))
        else:
            found.append(Quantity(number, (number,), (number,)))
    for words, (en, zh) in WORD_NUMBERS.items():
        if words in text:
            found.append(Quantity(words, en, zh))
    return found


def _fill(templates: Iterable[str], number: str) -> tuple[str, ...]:
    return tuple(template.format(n=number) for template in templates)


def _normalise(text: str) -> str:
    text = re.sub(r"(?<=\d),(?=\d{3})", "", text)
    return re.sub(r"(?<=\d)\s+(?=(?:MB|TB|ms|x|%)(?![A-Za-z]))", "", text)


def says(text: str, form: str) -> bool:
    """Whether `text` contains `form` as a whole quantity: "5x" is not found in "2.5x" or "15x"."""
    after = r"(?![0-9])" if form[-1].isdigit() else r"(?![A-Za-z])" if form[-1].isascii() else ""
    pattern = r"(?<![A-Za-z0-9.])" + re.escape(form) + after
    return re.search(pattern, _normalise(text), flags=re.IGNORECASE) is not None


def missing_quantities(text: str, facts: list[Fact]) -> list[str]:
    problems = []
    for quantity in quantities(text):
        languages: tuple[tuple[Language, tuple[str, ...]], ...] = (("en", quantity.en), ("zh", quantity.zh))
        for language, forms in languages:
            answers = [fact.answer.get(language) for fact in facts]
            if not any(says(answer, form) for answer in answers for form in forms):
                problems.append(f"{quantity.seed!r} not in any {language} answer (looked for {forms})")
    return problems


def missing_names(text: str, facts: list[Fact]) -> list[str]:
    answers = " ".join(f"{fact.answer.en} {fact.answer.zh}" for fact in facts).casefold()
    return [
        f"{word!r} not in the answers"
        for word in dict.fromkeys(LATIN_WORD.findall(text))
        if word.casefold() not in answers
    ]


def _ids(item: str | tuple[str, ...]) -> tuple[str, ...]:
    return (item,) if isinstance(item, str) else item


def test_every_seed_number_is_in_an_english_and_a_chinese_answer(seed: Seed, knowledge: Knowledge) -> None:
    facts = list(knowledge.facts.values())
    lines = [
        *seed.overview,
        *(e.heading for e in seed.entries),
        *(b for e in seed.entries for b in e.bullets),
    ]
    problems = sorted({problem for line in lines for problem in missing_quantities(line, facts)})
    assert not problems, "\n".join(problems)


def test_the_number_tables_match_the_seed(seed: Seed) -> None:
    text = "\n".join(
        [*seed.overview, *(e.heading for e in seed.entries), *(b for e in seed.entries for b in e.bullets)]
    )
    said = {m.group(1) + m.group(2) for m in NUMBER.finditer(text) if m.group(2) in ("亿", "万")}
    assert said == set(CHINESE_UNIT_NUMBERS), "every 亿/万 number of the seed needs exactly one English form"
    assert [words for words in WORD_NUMBERS if words not in text] == []


def test_every_timeline_entry_is_mapped_bullet_by_bullet(seed: Seed) -> None:
    seeded = {entry.timestamp: 1 + len(entry.bullets) for entry in seed.entries}
    mapped = {timestamp: len(items) for timestamp, items in TIMELINE.items()}
    assert mapped == seeded, "TIMELINE needs one item for each heading and bullet of the seed"
    assert len(OVERVIEW) == len(seed.overview)


def test_every_heading_and_bullet_has_facts_that_say_it(seed: Seed, knowledge: Knowledge) -> None:
    problems = []
    for entry in seed.entries:
        for line, item in zip((entry.heading, *entry.bullets), TIMELINE[entry.timestamp], strict=True):
            facts = [knowledge.facts[i] for i in _ids(item) if i in knowledge.facts]
            if len(facts) != len(_ids(item)):
                problems.append(f"{entry.timestamp} {line}: fact(s) {_ids(item)} missing")
                continue
            wrong = [f.id for f in facts if seconds(f.timestamp) != seconds(entry.timestamp)]
            if wrong:
                problems.append(f"{entry.timestamp} {line}: {wrong} have another timestamp")
            problems += [f"{entry.timestamp} {line}: {p}" for p in missing_quantities(line, facts)]
            problems += [f"{entry.timestamp} {line}: {p}" for p in missing_names(line, facts)]
    assert not problems, "\n".join(problems)


def test_every_overview_paragraph_has_facts_that_say_it(seed: Seed, knowledge: Knowledge) -> None:
    problems = []
    for paragraph, ids in zip(seed.overview, OVERVIEW, strict=True):
        facts = [knowledge.facts[i] for i in ids if i in knowledge.facts]
        if len(facts) != len(ids):
            problems.append(f"overview: fact(s) {ids} missing")
            continue
        problems += [f"overview {p}" for p in missing_quantities(paragraph, facts)]
        problems += [f"overview {p}" for p in missing_names(paragraph, facts)]
        problems += [f"{f.id}: timestamp {f.timestamp}" for f in facts if f.timestamp != OVERVIEW_TIMESTAMP]
    assert not problems, "\n".join(problems)


def test_every_fact_is_placed_in_the_seed(knowledge: Knowledge) -> None:
    placed = {i for items in TIMELINE.values() for item in items for i in _ids(item)}
    placed |= {i for ids in OVERVIEW for i in ids}
    assert sorted(set(knowledge.facts) - placed) == []


@pytest.mark.parametrize(
    ("text", "form", "expected"),
    [
        ("more than 5x the L3 cache", "5x", True),
        ("2.5x the cache", "5x", False),
        ("15x faster", "5x", False),
        ("ingested 250,000 indexes", "250000", True),
        ("from 1 MB to 2 MB", "2MB", True),
        ("Graviton5 has 192 cores", "5", False),
        ("单封装提供192核心", "192核心", True),
        ("1920 cores", "192", False),
    ],
)
def test_says_matches_whole_quantities_only(text: str, form: str, expected: bool) -> None:
    assert says(text, form) is expected


def test_quantities_skip_names_and_read_units() -> None:
    found = {
        q.seed: q
        for q in quantities("Graviton5单封装提供192核心，M9g比M8g提升25%，20亿向量，亚100毫秒，第七版")
    }
    assert set(found) == {"192核心", "25%", "20亿", "100毫秒", "第七版"}
    assert found["20亿"].en == ("2 billion",)
    assert found["100毫秒"].en == ("100ms",)


def test_committed_seed_is_the_shared_one() -> None:
    """The tests above read the committed copy and run on any checkout; only this check needs the shared
    seed beside the checkout, so it skips without it (on a clean CI clone) unless REQUIRE_SHARED_SEED=1."""
    shared = ROOT.parent / "shared" / "seed" / SEED.name
    if not shared.is_file():
        skip_or_fail(f"no shared seed beside the checkout at {shared}", unless="REQUIRE_SHARED_SEED")
    assert SEED.read_bytes() == shared.read_bytes(), f"{SEED} is out of date: copy {shared} over it"
