"""Synthetic knowledge of any size, with the shape and vocabulary of the real keynote facts.

Facts are (product, attribute) pairs: product lines with numbered generations (like Graviton4/5),
attributes asked about in English and Chinese templates. Every fact has five question variants,
three English and two Chinese; one more template per language is held back to make paraphrased
questions the index has never seen. Seeded, so every run measures the same knowledge.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import yaml

from knowledge.loader import Knowledge
from knowledge.models import Bilingual, Fact, Variants
from knowledge.store import FactStore

SYLLABLES = [
    "gra",
    "vi",
    "ton",
    "trai",
    "ni",
    "um",
    "ne",
    "ro",
    "lam",
    "bda",
    "man",
    "tle",
    "vec",
    "tor",
    "ze",
    "phyr",
    "cor",
    "tex",
    "ar",
    "go",
    "nau",
    "ta",
    "lis",
    "quan",
    "ta",
]
ATTRIBUTES: list[tuple[str, str, str, str]] = [
    # (attribute, English noun, Chinese noun, unit)
    ("cores", "cores", "核心", ""),
    ("l3", "L3 cache", "三级缓存", "MB"),
    ("bandwidth", "memory bandwidth", "内存带宽", "TB/s"),
    ("latency", "query latency", "查询延迟", "ms"),
    ("price", "price performance", "性价比", "%"),
    ("efficiency", "energy efficiency", "能效", "x"),
    ("throughput", "network throughput", "网络吞吐量", "Gbps"),
    ("memory", "HBM capacity", "高带宽内存容量", "TB"),
    ("regions", "available regions", "可用区域", ""),
    ("customers", "launch customers", "首批客户", ""),
    ("fan", "fan power savings", "风扇功耗节省", "%"),
    ("chips", "chips per server", "每台服务器芯片数", ""),
]
EN_TEMPLATES = [
    "How much {noun} does {product} have?",
    "{product} {noun}",
    "What is the {noun} of {product}?",
    "Tell me the {noun} for the {product} chip",  # held back: paraphrase
]
ZH_TEMPLATES = [
    "{product}的{noun}是多少？",
    "{product} {noun}",
    "{product}有多少{noun}？",  # held back: paraphrase
]
OFF_TOPIC = [
    "What's the weather in Las Vegas?",
    "tell me a joke",
    "write me a poem about clouds",
    "今天天气怎么样？",
    "What is Amazon's stock price?",
]


@dataclass(frozen=True)
class Question:
    text: str
    kind: str
    fact_id: str | None


def product_lines(count: int, rng: random.Random) -> list[str]:
    names: set[str] = set()
    while len(names) < count:
        parts = rng.sample(SYLLABLES, rng.choice((2, 3)))
        names.add("".join(parts).capitalize())
    return sorted(names)


def generate(size: int, seed: int = 7) -> tuple[Knowledge, list[Question]]:
    """`size` facts and a question mix over them: exact, paraphrased, typo'd, Chinese, unanswerable.

    The facts go into a FactStore one at a time, as the loader's do, so the benchmark holds what
    the bot holds."""
    rng = random.Random(seed)
    generations = 4
    lines = product_lines(max(1, size // (len(ATTRIBUTES) * generations)) + 1, rng)
    facts = FactStore.of(_facts(lines, generations, size, rng))
    knowledge = Knowledge(facts=facts, launches={}, fingerprint=f"synthetic-{size}-{seed}")
    return knowledge, question_mix(knowledge, rng)


def _facts(lines: list[str], generations: int, size: int, rng: random.Random) -> Iterator[Fact]:
    made = 0
    for line in lines:
        for generation in range(1, generations + 1):
            product = f"{line}{generation}"
            for attribute, noun_en, noun_zh, unit in ATTRIBUTES:
                if made == size:
                    return
                made += 1
                value = rng.randint(2, 900)
                yield Fact.model_construct(
                    id=f"{product.lower()}-{attribute}",
                    topic=line.lower(),
                    timestamp=f"{rng.randint(0, 2)}:{rng.randint(10, 59)}:00",
                    speaker=None,
                    questions=Variants.model_construct(
                        en=[t.format(noun=noun_en, product=product) for t in EN_TEMPLATES[:3]],
                        zh=[t.format(noun=noun_zh, product=product) for t in ZH_TEMPLATES[:2]],
                    ),
                    answer=Bilingual.model_construct(
                        en=f"{product} has {value}{unit} {noun_en}.",
                        zh=f"{product}的{noun_zh}为{value}{unit}。",
                    ),
                    keywords=[product, f"{line} {generation}"],
                    kinds=[],  # given, not defaulted: a default factory makes model_construct 10x slower
                )


def question_mix(knowledge: Knowledge, rng: random.Random, per_kind: int = 40) -> list[Question]:
    ids = list(knowledge.facts)

    def choice() -> Fact:
        """A random fact, as `rng.choice` would pick it, without making every fact to pick from."""
        return knowledge.facts[ids[rng.randrange(len(ids))]]

    questions: list[Question] = []
    for _ in range(per_kind):
        fact = choice()
        questions.append(Question(rng.choice(fact.questions.en), "exact", fact.id))
        fact = choice()
        product, noun = _product_and_noun(fact)
        questions.append(Question(EN_TEMPLATES[3].format(noun=noun, product=product), "paraphrase", fact.id))
        fact = choice()
        product, noun = _product_and_noun(fact)
        questions.append(Question(f"{_typo(product, rng)} {noun}?", "typo", fact.id))
        fact = choice()
        product, _ = _product_and_noun(fact)
        noun_zh = next(zh for a, _, zh, _ in ATTRIBUTES if fact.id.endswith("-" + a))
        questions.append(Question(ZH_TEMPLATES[2].format(noun=noun_zh, product=product), "chinese", fact.id))
        fact = choice()
        product, noun = _product_and_noun(fact)
        unknown = product[:-1] + "9"
        questions.append(Question(f"How much {noun} does {unknown} have?", "unanswerable", None))
    questions.extend(Question(text, "unanswerable", None) for text in OFF_TOPIC)
    return questions


def _product_and_noun(fact: Fact) -> tuple[str, str]:
    product = fact.keywords[0]
    attribute = fact.id.rsplit("-", 1)[1]
    noun = next(en for a, en, _, _ in ATTRIBUTES if a == attribute)
    return product, noun


def _typo(word: str, rng: random.Random) -> str:
    """Swap two neighbouring letters inside the name (never the digits)."""
    letters = [i for i in range(1, len(word) - 2) if word[i].isalpha() and word[i + 1].isalpha()]
    if not letters:
        return word
    i = rng.choice(letters)
    return word[:i] + word[i + 1] + word[i] + word[i + 2 :]


PACK_SIZE = 50
"""Facts per pack when the knowledge is written out: 2,000 keynote-sized packs at 100,000 facts."""


def write_conference(knowledge: Knowledge, directory: Path) -> None:
    """The knowledge as a conference on disk: one pack directory (`pack.yaml`, `facts.yaml`) per
    PACK_SIZE facts, in the format curators write, for measuring a start from files."""
    dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
    ids = list(knowledge.facts)
    for first in range(0, len(ids), PACK_SIZE):
        number = first // PACK_SIZE
        pack = directory / f"session-{number:04d}"
        pack.mkdir(parents=True)
        described = {
            "id": f"session-{number:04d}",
            "title": {"en": f"Session {number}", "zh": f"第{number}场"},
            "event": "Synthetic Conference 2030",
            "themes": [{"id": "general", "en": "General", "zh": "综合"}],
            "examples": {"en": ["What was announced?"], "zh": ["发布了什么？"]},
        }
        facts = [
            knowledge.facts[fact_id].model_dump(exclude_none=True, exclude_defaults=True)
            for fact_id in ids[first : first + PACK_SIZE]
        ]
        for name, data in (("pack.yaml", described), ("facts.yaml", {"facts": facts})):
            (pack / name).write_text(
                yaml.dump(data, Dumper=dumper, allow_unicode=True, sort_keys=False), encoding="utf-8"
            )
