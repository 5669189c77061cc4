"""The curator's debugger: what the bot would answer to a question, its top candidates, and the signals
behind answering or declining."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from knowledge.calibration import FEATURES
from knowledge.matcher import Answer, Matcher


@dataclass(frozen=True)
class Candidate:
    fact_id: str
    question: str
    score: float
    coverage: float
    variant: float
    similarity: float


@dataclass
class Trial:
    question: str
    answer: Answer
    threshold: float
    candidates: list[Candidate] = field(default_factory=list)
    signals: dict[str, float] = field(default_factory=dict)
    contributions: dict[str, float] = field(default_factory=dict)
    """Each signal times its fitted weight: what pushed the confidence up or down."""

    @property
    def reason(self) -> str:
        """Why the bot answered or declined, in a sentence."""
        answer = self.answer
        if answer.small_talk is not None:
            return f"small talk ({answer.small_talk}): the bot replies with a pointer to /help"
        if answer.answered:
            return f"confidence {answer.confidence:.2f} reaches the threshold {self.threshold:.2f}"
        if answer.ruled_out:
            return "; ".join(answer.ruled_out)
        if answer.unknown:
            return "the knowledge does not have " + ", ".join(repr(u) for u in answer.unknown)
        if answer.considered is None:
            return "no fact shares a word with the question"
        return f"confidence {answer.confidence:.2f} is below the threshold {self.threshold:.2f}"

    @property
    def verdict(self) -> str:
        return ("answered: " if self.answer.answered else "declined: ") + self.reason

    def to_json(self) -> dict[str, Any]:
        answer = self.answer
        return {
            "question": self.question,
            "answered": answer.answered,
            "answer": answer.text,
            "fact_id": answer.fact.id if answer.fact else None,
            "considered": answer.considered.id if answer.considered else None,
            "confidence": round(answer.confidence, 4),
            "threshold": round(self.threshold, 4),
            "language": answer.language,
            "small_talk": answer.small_talk,
            "verdict": self.verdict,
            "ruled_out": list(answer.ruled_out),
            "unknown": list(answer.unknown),
            "suggestions": [asdict(s) for s in answer.suggestions],
            "candidates": [asdict(c) for c in self.candidates],
            "signals": self.signals,
            "contributions": self.contributions,
        }


def try_question(matcher: Matcher, question: str, candidates: int = 5) -> Trial:
    answer = matcher.ask(question)
    calibration = matcher.calibration
    trial = Trial(question, answer, calibration.threshold)
    if answer.small_talk is None:
        language = answer.language
        for scored in matcher.rank(matcher.query(question))[:candidates]:
            fact = scored.entry.fact
            trial.candidates.append(
                Candidate(
                    fact.id,
                    fact.canonical_question(language),
                    round(scored.score, 4),
                    round(scored.coverage, 4),
                    round(scored.variant, 4),
                    round(scored.similarity, 4),
                )
            )
    if answer.signals is not None:
        values = answer.signals.values()
        trial.signals = {name: round(value, 4) for name, value in zip(FEATURES, values, strict=True)}
        trial.contributions = {
            name: round(weight * value, 4)
            for name, weight, value in zip(FEATURES, calibration.weights, values, strict=True)
        }
    return trial
