"""Answer a question from the knowledge, or abstain with suggestions.

Plain Python over an index built in advance: no I/O and no platform code at question time.
Scoring, per candidate fact, in [0, 1]:

- coverage: how much of the question's weight (IDF; unknown words weigh the most) the fact explains,
- variant coverage: how much of the fact's closest question variant the question covers,
- similarity: rapidfuzz ratio between the question and that variant, for near-verbatim questions.

The mix is the confidence; below THRESHOLD the matcher abstains. It also abstains, whatever the
score, when the question names a product the knowledge does not have (`Graviton6`, `M10g`, `2030`):
a question about something else must not get the answer about its neighbour.
"""

from __future__ import annotations

import dataclasses
import functools
import re
from dataclasses import dataclass

from rapidfuzz import fuzz, process

from knowledge.calibration import Calibration, Signals, load_calibration
from knowledge.index import (
    Entry,
    Index,
    QueryTerm,
    build_index,
    resolve,
    series_prefix,
    sorted_words,
    unknown_series_member,
)
from knowledge.kinds import (
    HARD,
    KIND_WORDS,
    SOFT,
    Kind,
    asked_kinds,
    counted,
    counts,
    has_number,
    mismatch,
)
from knowledge.language import detect_language
from knowledge.loader import Knowledge, Problem
from knowledge.models import Fact, Language, Launch
from knowledge.normalize import (
    CHAT_NOISE,
    COMMON_TERMS,
    HAN_TIME,
    INTENT_WORDS,
    MAX_CHARS,
    MONEY_HAN,
    MONEY_WORDS,
    OWNER_WORDS,
    STOPWORDS,
    TIME_WORDS,
    UNITS,
    Token,
    compact,
    has_digit,
    is_han,
    term_of,
    time_pair,
    words,
)
from knowledge.parts import new_topic, split_parts
from knowledge.properties import asked_properties, missing_properties
from knowledge.recent import Recent
from knowledge.smalltalk import SmallTalk, small_talk

CALIBRATION = load_calibration()
"""The fitted confidence weights and threshold (knowledge/calibration.json), read once at import."""
CANDIDATES = 40
"""Facts drawn from the index per question and scored by coverage."""
RERANKED = 12
"""Facts compared variant by variant: enough for the right one to be among them, few enough to be fast."""
SUGGESTIONS = 3
QUERIES = 256
"""Questions whose Query a matcher keeps (a few kilobytes each)."""
ANSWERS = 1024
"""Answers to questions asked on their own, the latest kept: a busy workspace asks the same
questions over and over, and an answer depends only on the question and the knowledge (a reload
makes a new matcher, so a kept answer is never stale)."""
_MIN_SUGGESTION = 0.2
_WEIGHTS = (0.6, 0.25, 0.15)
_PROPER_BOOST = 1.5
_COMMON_SHARE = 0.35
"""An everyday word the knowledge lacks ("belong", "segment") weighs this share of a rare one."""
_UNKNOWN_HAN = 0.5
_ABSTAIN_CAP = 0.25
_AMBIGUOUS_MARGIN = 0.02
_ATTRIBUTE_SHARE = 0.25
_ANAPHORA = re.compile(r"\b(it|its|it's|he|his|she|her|they|their)\b|它|她|他的|他们|这个|那个")
"""Words that point back to something said before: with no conversation, the question is incomplete."""
_SOMEONE_SAID = re.compile(
    r"\bwhat (?:did|does|will|has|have) ([a-z][a-z.-]*(?: [a-z][a-z.-]*)?) "
    r"(?:say|said|announce|announced|launch|launched|present|talk about|cover|unveil|reveal|share|discuss)\b"
    r"|\b([a-z][a-z.-]*(?: [a-z][a-z.-]*)?)(?:'s|’s|s') (?:own |closing |opening |big )?keynote\b"
    r"|([a-z][a-z-]+)\s*(?:说|讲|发布|宣布)了(?:什么|啥|哪些)"
    r"|([a-z][a-z-]+(?: [a-z][a-z-]+)?)\s*的\s*(?:keynote|主题演讲|演讲)\s*(?:里|上|中)?\s*"
    r"(?:都|主要)?(?:讲了|说了|发布了|宣布了|有)(?:什么|啥|哪些)"
)
""""What did Werner say?", "Swami's keynote": a question about what someone else presented."""
_SOMEONE_HINTS = ("what did", "what does", "what will", "what has", "what have", "keynote", "了", "的")
"""Words _SOMEONE_SAID cannot match without: a question with none of them is not searched."""
_VALUE_FOR_MONEY = re.compile(r"price performance|cost effective|cost efficient|cost efficiency")
"""Ways of saying "good value": a question about them does not ask for a price."""
_CHECKED = 5
"""Candidates checked for names and attributes, best first: the answer is the best that passes."""
_SUBJECT_WEIGHT = 0.5
"""A follow-up's borrowed subject counts for less than the words the user typed."""
_ECHO_WEIGHT = 0.3
"""And the words of the question before it, for less still."""
_TOPIC_BONUS = 0.08
"""A follow-up stays in its section unless the words say otherwise."""
_ASKS_OF = re.compile(r"\b(does|do|did|can|could|will|would|should)\b")
"""An auxiliary verb: the question asks something of its subject."""
_LEAD_BONUS = 0.05
"""For a launch's first fact (its overview) when a question names a subject and asks nothing of it."""
_REPEAT_PENALTY = 0.05
"""Taken off the fact just answered when a follow-up is ranked: "and per core?" wants more, not the same."""


_EXPANSION = re.compile(
    r"\b(stands? for|short for|full name|acronym|abbreviation)( of)?\b|全称|全名|缩写|的简称"
)
"""Asking for an abbreviation's long form."""
_SAYS_NOTHING = re.compile(
    r"\bwhat(?:'?s| is) (?:special|notable|interesting|cool)(?: (?:with|about|in|on|for)\b)?"
    r"|新东西|东西|玩意儿?|特别之处|特别的|特点|亮点"
    r"|现在|来着|当初|目前",
    re.IGNORECASE,
)
"""Words read as nothing, their characters included. Ways of asking about something in general
("what's special about it?", "LMI 是啥东西", "Neuron Profiler 有啥特别的") name no attribute, so the
question is its subject alone (not "what's new": "what is new in serverless" asks for the new thing);
and chat fillers ("Peter 现在是啥职位来着")."""
_HAN_SKIPPED = frozenset({"他们", "她们", "它们", "我们", "你们", "他的", "她的", "它的", "有哪"})
"""Pronoun bigrams (who or what they stand for is the conversation's subject, not a word to match) and
有哪 of 有哪些 ("which are there"), which, like 有啥 and 有什, says a list is wanted, not of what:
"有哪些客户数据" after an M9g question matched a Graviton fact asked as "Graviton有哪些客户案例"."""
_OTHER = re.compile(r"\b(others?|else|another|besides)\b|别的|其他|其它|另外|还有啥|还有什么|还有哪")
"""Asking for something other than what was just said."""
_LIGHT_VERBS = frozenset(
    {"use", "used", "using", "have", "has", "had", "get", "got", "make", "made", "need", "do", "doe", "did"}
    | {"用", "用的", "能用"}
)
"""Verbs that carry the question's grammar rather than what it asks about (as terms: 能用 in "啥时候能用"
asks when it is available; 有啥用 and 是干嘛用的 ask what something is for, not about using it)."""
_WHO_VERB = re.compile(
    r"\bwho (ran|runs|led|leads|did|does|handled|covered|took)\b(?= (the|that|this|their|his|her)\b)",
    re.IGNORECASE,
)
"""Chat's ways of asking who presented a part of the talk ("who ran the graviton segment?"), said the
way curators write it; only before an article, so "who did Apple move to Swift" keeps its verb, and not
the verbs curators use themselves ("who hosted the keynote?")."""
_CLAUSES = re.compile(r"[,;:]\s+(?:and\s+)?")
"""Where an English answer's clauses part: the items of a list."""


@dataclass(frozen=True)
class Suggestion:
    fact_id: str
    question: str


@dataclass(frozen=True)
class Topic:
    """What a conversation is about: the fact its last answered turn got. A follow-up that names no
    subject of its own ("and its bandwidth?", "它多少钱？") is asked of this fact's subject."""

    fact_id: str
    question: str = ""
    """The question that got it: a bare "over what period?" continues it."""


@dataclass(frozen=True)
class Answer:
    question: str
    answered: bool
    language: Language
    confidence: float
    fact: Fact | None = None
    text: str = ""
    timestamp: str | None = None
    suggestions: tuple[Suggestion, ...] = ()
    unknown: tuple[str, ...] = ()
    """Names in the question that the knowledge does not have (why it abstained)."""
    small_talk: SmallTalk | None = None
    """A greeting, thanks or "what can you do?": not a question about the keynote at all."""
    follow_up: bool = False
    """Answered as a follow-up: the question named no subject, so the conversation's was used."""
    signals: Signals | None = None
    """What the confidence was computed from, for the fact considered (the curators' debugger)."""
    considered: Fact | None = None
    """The fact the signals are about, answered or not."""
    ruled_out: tuple[str, ...] = ()
    """Why that fact could not be the answer whatever its score: an unknown name, a missing
    attribute, a price or unit it does not give, a kind of answer it does not give."""
    parts: tuple[Answer, ...] = ()
    """A two-part question's parts, each answered or not, in order (empty for one-part questions)."""
    pack: str | None = None
    """The id of the pack the answer comes from."""

    @property
    def topic(self) -> Topic | None:
        """What the conversation is about after this answer."""
        return Topic(self.fact.id, self.question) if self.answered and self.fact is not None else None


@dataclass(frozen=True)
class LaunchLookup:
    launch: Launch | None
    suggestions: tuple[Launch, ...] = ()


@dataclass(frozen=True)
class Query:
    terms: tuple[QueryTerm, ...]
    text: str
    unknown_names: tuple[str, ...]
    language: Language = "en"
    kinds: frozenset[Kind] = frozenset()
    """The kinds of answer the question asks for."""
    noise: int = 0
    """Chat noise words dropped (yo, lol, tbh)."""
    topic: str | None = None
    """A follow-up's section: its facts are preferred."""
    counted: tuple[str, ...] = ()
    """What "how many" asks to count: the answer must give a number of it."""
    packs: frozenset[str] = frozenset()
    """Packs the question names by their event, title or speakers: only their facts may answer."""
    previous: str | None = None
    """A follow-up's previous answer (its fact id): asked again, it is rarely what is meant."""
    properties: tuple[str, ...] = ()
    """Properties asked for (regions, clock speed): the answer must state them."""
    other: bool = False
    """Asks for something else ("any others?", "还有别的吗"): a follow-up's previous answer is not it."""
    expands: tuple[str, ...] = ()
    """Abbreviations whose long form is asked for ("what does NKI stand for?"): the answer spells one out."""
    subject: tuple[str, ...] = ()
    """A follow-up's borrowed subject (`trainium3`, `trainium`): an answer from another section
    must be about it."""


@dataclass(frozen=True)
class Scored:
    entry: Entry
    score: float
    coverage: float = 0.0
    variant: float = 0.0
    similarity: float = 0.0


class Matcher:
    def __init__(
        self,
        knowledge: Knowledge,
        index: Index | None = None,
        calibration: Calibration | None = None,
        answers: int = ANSWERS,
    ) -> None:
        """`answers`: how many answers to questions asked on their own are kept (0: none, as the
        speed benchmark asks, to time the matcher's own work)."""
        self.knowledge = knowledge
        self.calibration = calibration or CALIBRATION
        self.index = index if index is not None else build_index(knowledge)
        self._queries: Recent[str, Query] = Recent(QUERIES)
        self._answers: Recent[str, Answer] | None = Recent(answers) if answers else None
        self._leads = frozenset(launch.facts[0] for launch in knowledge.launches.values() if launch.facts)
        self._named = {
            term_of(token.text)
            for launch in knowledge.launches.values()
            for name in (launch.name, *launch.aliases)
            for token in words(name)
        }
        self._launch_names = [
            (launch, key)
            for launch in knowledge.launches.values()
            for key in dict.fromkeys(compact(name) for name in (launch.name, launch.id, *launch.aliases))
            if key
        ]

    def ask(self, question: str, topic: Topic | None = None) -> Answer:
        """The answer to a question, on its own or, when it names no subject, as a follow-up of `topic`;
        a two-part question whose parts need two facts gets both.

        Only the first MAX_CHARS characters are read, as `words` does: every pattern below then runs
        on a chat-sized text, whatever a client sends. An answer to a question on its own is kept
        (the latest ANSWERS)."""
        question = question[:MAX_CHARS]
        if topic is None and self._answers is not None:
            return self._answers.get(question, self._ask)
        return self._ask(question, topic)

    def _ask(self, question: str, topic: Topic | None = None) -> Answer:
        chat = small_talk(question)
        if chat is not None:
            return Answer(
                question, answered=False, language=detect_language(question), confidence=0.0, small_talk=chat
            )
        someone = self._another_keynote(question)
        if someone is not None:
            language = detect_language(question)
            return Answer(question, False, language, 0.0, ruled_out=(f"asks about what {someone} presented",))
        rest = new_topic(question)
        if rest is not None:
            question, topic = rest, None
        parts = split_parts(question)
        combined = self._combined(question, parts, topic) if len(parts) > 1 else None
        return combined or self._ask_one(question, topic)

    def _combined(self, question: str, parts: list[str], topic: Topic | None) -> Answer | None:
        """Each part answered, those that name no subject as follow-ups of a part that does ("how much
        faster" after "how much cheaper was Swift on Graviton"); None unless two facts answer."""
        parts = [p for p in parts if small_talk(p) is None and self._asks_anything(self.query(p))]
        if len(parts) < 2:
            return None
        queries = [self.query(part) for part in parts]
        named = [self._names_subject(query) for query in queries]
        answers: dict[int, Answer] = {}
        for position in sorted(range(len(parts)), key=lambda n: not named[n]):
            lender = next((a.topic for a in answers.values() if a.topic is not None), topic)
            answers[position] = self._ask_one(parts[position], None if named[position] else lender)
        ordered = [answers[n] for n in range(len(parts))]
        answered = [a for a in ordered if a.answered and a.fact is not None]
        if len({a.fact.id for a in answered if a.fact is not None}) < 2:
            return None
        first = answered[0]
        texts = list(dict.fromkeys(a.text for a in answered))
        return dataclasses.replace(
            first,
            question=question,
            text=" ".join(texts),
            confidence=min(a.confidence for a in answered),
            parts=tuple(ordered),
        )

    def _ask_one(self, question: str, topic: Topic | None) -> Answer:
        query = self.query(question)
        previous = self.knowledge.facts.get(topic.fact_id) if topic is not None else None
        if topic is None or previous is None:
            answer = self._answer(question, query)
            if answer.answered and _ANAPHORA.search(question.casefold()) and self._bare(query, question):
                # "what about its bandwidth?" with nothing before it: whose? Say so, and suggest.
                guess = answer.fact
                assert guess is not None
                return dataclasses.replace(
                    answer,
                    answered=False,
                    fact=None,
                    text="",
                    ruled_out=("refers to an earlier question",),
                    suggestions=(Suggestion(guess.id, guess.canonical_question(answer.language)),),
                )
            return answer
        if query.unknown_names:
            return self._answer(question, query)
        own = self._own_subjects(query, previous)
        if own is None:
            return self._answer(question, query)
        contextual = self._answer(question, self._with_subject(query, previous, topic), follow_up=True)
        if not own:
            return contextual
        standalone = self._answer(question, query)
        return contextual if contextual.confidence > standalone.confidence else standalone

    def _answer(self, question: str, query: Query, follow_up: bool = False) -> Answer:
        language = query.language
        ranked = self.rank(query) if any(not term.term.isdigit() for term in query.terms) else []
        if not ranked:
            return Answer(question=question, answered=False, language=language, confidence=0.0)
        # The best candidate that answers what is asked: a neighbour that scores higher but misses a
        # name or the asked attribute loses to the fact that has them.
        best, reasons = ranked[0], self._ruled_out(query, ranked[0])
        if reasons and not query.unknown_names:  # a name the knowledge lacks rules out every fact alike
            best, reasons = self._neighbour(query, ranked, reasons)
        runner_up = max((s.score for s in ranked if s is not best), default=0.0)
        signals = self._signals(query, best, runner_up, follow_up)
        confidence = self.calibration.confidence(signals)
        if reasons:
            confidence = min(confidence, _ABSTAIN_CAP)
        unknown = query.unknown_names + _missing_names(
            query, best.entry, self.index.topic_names.get(best.entry.topic, frozenset())
        )
        if confidence >= self.calibration.threshold:
            fact = best.entry.fact
            return Answer(
                question=question,
                answered=True,
                language=language,
                confidence=confidence,
                fact=fact,
                text=fact.answer.get(language),
                timestamp=fact.timestamp,
                follow_up=follow_up,
                signals=signals,
                considered=fact,
                pack=self.knowledge.fact_packs.get(fact.id),
            )
        suggestions = tuple(
            Suggestion(s.entry.id, s.entry.fact.canonical_question(language))
            for s in ranked[:SUGGESTIONS]
            if s.score >= _MIN_SUGGESTION
        )
        return Answer(
            question=question,
            answered=False,
            language=language,
            confidence=confidence,
            suggestions=suggestions,
            unknown=unknown,
            signals=signals,
            considered=best.entry.fact,
            ruled_out=reasons,
        )

    def _neighbour(
        self, query: Query, ranked: list[Scored], reasons: tuple[str, ...]
    ) -> tuple[Scored, tuple[str, ...]]:
        """When the best match is ruled out, the next of the first _CHECKED that is not (with no reasons),
        else the best match and its reasons. It must still be about what the best match showed the
        question to be about, by its rarest subject ("epic", of "epic games" and "graviton")."""
        first = ranked[0].entry
        named = [
            t
            for t in query.terms
            if t.known
            and t.term in self.index.subjects
            and (t.term in first.asked or t.term in first.answered)
        ]
        about = max(named, key=lambda t: t.weight).term if named else None
        for candidate in ranked[1:_CHECKED]:
            entry = candidate.entry
            if about is not None and about not in entry.asked and about not in entry.answered:
                continue
            if not self._ruled_out(query, candidate):
                return candidate, ()
        return ranked[0], reasons

    def _ruled_out(self, query: Query, candidate: Scored) -> tuple[str, ...]:
        """Why a candidate cannot be the answer whatever it scores (empty: it can)."""
        entry = candidate.entry
        reasons = [f"unknown name {name!r}" for name in query.unknown_names]
        reasons += [
            f"does not mention {name!r}"
            for name in _missing_names(query, entry, self.index.topic_names.get(entry.topic, frozenset()))
        ]
        if (
            query.subject
            and entry.topic != query.topic
            and not any(t in entry.asked or t in entry.answered for t in query.subject)
        ):
            reasons.append(f"is not about {' '.join(query.subject)}")
        if self._asks_something_else(query, entry):
            reasons.append("is about the subject but not about what is asked of it")
        reasons += [
            f"says nothing of its {name}"
            for name in missing_properties(query.properties, entry.record.answer_en, entry.record.answer_zh)
        ]
        if _needs_amount(query, entry.answer(query.language)):
            reasons.append("does not give the price or unit asked for")
        reasons += [f"gives no {kind}" for kind in sorted(mismatch(query.kinds, entry.kinds))]
        if query.other and entry.id == query.previous:
            reasons.append("was just answered, and something else is asked for")
        if query.expands and not any(_spelt_out(short, entry.record.answer_en) for short in query.expands):
            reasons.append(f"does not spell out {' or '.join(query.expands)}")
        if "number" in query.kinds and self._number_elsewhere(query, entry.record.answer_en):
            reasons.append("gives its numbers for others than the one asked about")
        if query.counted and not any(
            _counts(entry.answer(language), query.counted) for language in ("en", "zh")
        ):
            reasons.append(f"does not count {' or '.join(query.counted)}")
        return tuple(reasons)

    def _number_elsewhere(self, query: Query, answer: str) -> bool:
        """A list answer ("Adobe cut emissions by 37%, Epic Games supports large-scale gaming, and
        Pinterest lowered costs by 47%") whose numbers are all in clauses that do not name the
        company or product asked about ("what % did Epic Games save?")."""
        clauses = _clauses(answer)
        if len(clauses) < 3:
            return False
        names = {t.term for t in query.terms if not t.borrowed and (t.name or t.term in self.index.subjects)}
        about = [numbered for terms, numbered in clauses if names & terms]
        others = [numbered for terms, numbered in clauses if not names & terms]
        return bool(about) and not any(about) and any(others)

    def _attribute(self, query: Query, entry: Entry) -> float:
        """The share of the question's own non-name words (unknown ones too) that the fact has."""
        subjects = self.index.subjects
        asked = found = 0.0
        for term in query.terms:
            if term.borrowed or term.name or term.term in INTENT_WORDS or term.term in subjects:
                continue
            if _kind_word(term, query.kinds, entry.kinds):
                continue
            asked += term.weight
            if term.known and (term.term in entry.asked or term.term in entry.answered):
                found += term.weight
        return found / asked if asked else 1.0

    def _signals(self, query: Query, best: Scored, runner_up: float, follow_up: bool) -> Signals:
        total = sum(t.weight for t in query.terms) or 1.0
        unknown = sum(t.weight for t in query.terms if not t.known) / total
        soft = query.kinds & SOFT
        given = bool(soft) and soft <= best.entry.kinds
        return Signals(
            coverage=best.coverage,
            variant=best.variant,
            similarity=best.similarity,
            score=best.score,
            margin=max(0.0, best.score - runner_up),
            anchors=min(3, _anchors(query, best.entry)) / 3,
            attribute=self._attribute(query, best.entry),
            unknown=unknown,
            noise=float(query.noise),
            kind_matched=float(bool(query.kinds & HARD)),
            kind_asked=float(bool(soft)),
            kind_given=float(given),
            kind_missed=float(bool(soft) and not given),
            follow_up=float(follow_up),
            same_section=float(follow_up and best.entry.topic == query.topic),
            repeat=float(best.entry.id == query.previous),
            chinese=float(query.language == "zh"),
        )

    def _another_keynote(self, question: str) -> str | None:
        """Someone the question asks about who did not present in this knowledge: in a question about
        a keynote ("what did Werner say in his closing keynote?") anyone but a presenter; otherwise
        ("what did Matt Garman announce?") a name the knowledge does not know at all."""
        text = question.casefold()
        if not any(hint in text for hint in _SOMEONE_HINTS):
            return None
        keynote = "keynote" in text or "主题演讲" in text
        for match in _SOMEONE_SAID.finditer(text):
            who = next(group for group in match.groups() if group)
            words = [w for w in re.split(r"[ .'-]+", who) if w and w not in STOPWORDS]
            if not words or any(w in self.index.presenters for w in words):
                continue
            known = [self.index.df.get(term_of(w), 0) for w in words]
            common = max(3, len(self.index.entries) // 30)
            if (keynote and max(known) < common) or not any(known):
                return who
        return None

    @staticmethod
    def _asks_anything(query: Query) -> bool:
        """A part with a word of its own to look up ("lol", "有人知道吗" have none)."""
        return any(t.known and t.term not in INTENT_WORDS and len(t.term) > 1 for t in query.terms)

    def _bare(self, query: Query, question: str) -> bool:
        """A question that leans on something said before: no name or subject of its own and at most
        two words to look up ("what about its bandwidth?"), where "why does AWS design its own
        processors?" says what "its" is."""
        if self._names_subject(query) or any(token.acronym for token in words(question)):
            return False
        own = [t for t in query.terms if t.term not in INTENT_WORDS and len(t.term) > 1]
        return len(own) <= 2

    def _subject_only(self, query: Query) -> bool:
        """A question that names a subject and asks nothing of it ("tell me about the Trn3
        UltraServer"; "what does Lambda manage with managed instances?" asks what it does, in the
        words of its own name)."""
        own = [t for t in query.terms if t.term not in INTENT_WORDS]
        if not own or _ASKS_OF.search(query.text):
            return False
        return all(t.known and (t.term in self._named or t.term in self.index.series) for t in own)

    def _names_subject(self, query: Query) -> bool:
        return any(t.name or (t.known and t.term in self.index.subjects) for t in query.terms)

    def _own_subjects(self, query: Query, previous: Fact) -> list[str] | None:
        """The subjects the question names itself: None when one is not the conversation's (a new topic),
        else the list (empty for a bare follow-up such as "and per core?")."""
        entry = self.index.entries[self.index.position[previous.id]]
        named = [t.term for t in query.terms if t.known and t.term in self.index.subjects]
        if any(term not in entry.asked and term not in entry.answered for term in named):
            return None
        return named

    def _with_subject(self, query: Query, previous: Fact, topic: Topic) -> Query:
        """The question as if it named the conversation's subject ("its bandwidth" → "Trainium3
        bandwidth"), with a little of the question before it ("over what period?"), and a preference
        for facts of the same section."""
        have = {t.term for t in query.terms}
        extra: list[QueryTerm] = []
        for subject in self.index.subject_terms(previous):
            if subject not in have:
                have.add(subject)
                weight = self.index.idf(subject) * _SUBJECT_WEIGHT
                extra.append(QueryTerm(subject, weight, True, source=subject, borrowed=True))
        for echo in self.query(topic.question).terms if topic.question else ():
            if echo.known and echo.term not in have and echo.term not in INTENT_WORDS:
                have.add(echo.term)
                extra.append(
                    dataclasses.replace(echo, weight=echo.weight * _ECHO_WEIGHT, name=False, borrowed=True)
                )
        named = " ".join(self.index.subject_terms(previous))
        text, replaced = _ANAPHORA.subn(named, query.text)
        if not replaced:
            text = f"{query.text} {named}"
        return dataclasses.replace(
            query,
            terms=query.terms + tuple(extra),
            text=text,
            topic=previous.topic,
            previous=previous.id,
            subject=self.index.subject_terms(previous),
        )

    def query(self, question: str) -> Query:
        """The question's terms, weighted, with misspellings resolved and unknown names set aside.

        The latest QUERIES are kept: a two-part question reads each part's three times, and every
        follow-up reads the question before it again (see `Recent` for why not an lru_cache)."""
        return self._queries.get(question, self._query)

    def _query(self, question: str) -> Query:
        index = self.index
        question = _WHO_VERB.sub("who presented", question)
        kinds = asked_kinds(question)
        question = _SAYS_NOTHING.sub(" ", question)
        expansion = _EXPANSION.search(question.casefold())
        if expansion:  # "what does NKI stand for?": the words say what is asked, not what it is about
            question = f"{question[: expansion.start()]} {question[expansion.end() :]}"
        tokens = words(question)
        terms: list[QueryTerm] = []
        unknown: list[str] = []
        skip_next = False
        noise = 0
        named_packs: set[str] = set()
        title_case = _title_case(tokens)
        shouting = sum(token.acronym for token in tokens) > len(tokens) / 2
        # Chinese does not capitalise: a Latin word in a Chinese question is a product or a name.
        chinese = any(is_han(token.text) for token in tokens)
        for position, token in enumerate(tokens):
            if skip_next:
                skip_next = False
                continue
            text = token.text
            if is_han(text):
                self._han_terms(text, terms, unknown)
                continue
            following = tokens[position + 1].text if position + 1 < len(tokens) else ""
            moment = time_pair(text, following) or (text if text in TIME_WORDS else None)
            if moment and moment not in index.df:
                unknown.append(moment)
                continue
            if moment:
                terms.append(QueryTerm(moment, index.idf(moment), True, source=moment, name=True))
                if moment != text:
                    skip_next = True
                continue
            if text in CHAT_NOISE:
                noise += 1
                continue
            term = term_of(text)
            if term in index.pack_terms and (term not in index.df or len(self.knowledge.packs) > 1):
                # The keynote's own name ("the re:Invent infra keynote"): it picks a pack, not a fact.
                named_packs.update(index.pack_terms[term])
                continue
            if text in STOPWORDS:
                continue
            compound = term_of(text + following) if text.isalpha() and following.isalpha() else ""
            if compound in index.df:  # "ultra server": UltraServer (as written, never a misspelling)
                terms.append(QueryTerm(compound, index.idf(compound), True, source=compound))
                skip_next = True
                continue
            if text.isalpha() and following.isdigit() and len(following) <= 2:
                merged = self._known(text + following)
                if merged is not None:
                    terms.append(merged)
                    skip_next = True
                    word = self._known(term)
                    if word is not None:
                        terms.append(word)
                    continue
                if unknown_series_member(index, text + following):
                    unknown.append(text + following)
                    skip_next = True
                    continue
            proper = (token.proper and not title_case) or (
                chinese and text.isalpha() and text not in UNITS and self._latin_name(term)
            )
            known = self._known(term, proper, source_digits=has_digit(text))
            if known is None and position and text.isalpha() and len(text) <= 3:
                # "lambda MI": the rest of an abbreviation whose first letter was typed out (LMI).
                joined = tokens[position - 1].text[:1] + text
                if joined in index.df and tokens[position - 1].text.isalpha():
                    known = QueryTerm(joined, index.idf(joined), True, source=text, name=proper)
            if known is not None:
                terms.append(known)
                prefix = series_prefix(known.term)
                line = self._known(prefix) if prefix else None
                if line is not None:
                    terms.append(line)
            elif has_digit(text) or proper or (token.acronym and not shouting):
                unknown.append(term)
            else:
                weight = index.unknown_weight * (_PROPER_BOOST if token.proper else 1.0)
                if (term in COMMON_TERMS and not token.proper) or text in UNITS:
                    weight *= _COMMON_SHARE  # a unit is checked against the answer (_needs_amount)
                terms.append(QueryTerm(term, weight, False, source=text))
        text = " ".join(t.text for t in tokens)
        unique: dict[str, QueryTerm] = {}
        for found in terms:  # a word said twice (数据…数据, "cores … cores") is weighed once
            unique.setdefault(found.term, found)
        return Query(
            tuple(unique.values()),
            text,
            tuple(unknown),
            detect_language(question),
            kinds,
            noise,
            counted=self._counted(question),
            packs=frozenset(named_packs),
            properties=tuple(  # "Is M9g GA or preview?" is answered by its preview; "when GA?" is not
                name for name in asked_properties(text) if name != "general availability" or "time" in kinds
            ),
            other=_OTHER.search(text) is not None,
            expands=tuple(
                t.source
                for t in terms
                if expansion and t.known and t.source.isalpha() and 2 <= len(t.source) <= 5
            ),
        )

    def _latin_name(self, term: str) -> bool:
        """A Latin word in a Chinese question: a name when it is one of the knowledge's subjects or
        presenters, or a word it does not have and English does not use every day (`mantle`,
        `zyphr`); `ceo`, `tax` or `cache` amid Chinese are what is asked, not who it is about."""
        index = self.index
        if term in index.subjects or term in index.presenters:
            return True
        return term not in index.df and term not in COMMON_TERMS

    def _counted(self, question: str) -> tuple[str, ...]:
        """What "how many" counts, as the vocabulary knows it (`diemnsions` is `dimension`); a word
        it does not know (`vCPUs`) stays as typed, so no fact counts it."""
        found: list[str] = []
        for noun in counted(question):
            if noun in STOPWORDS or is_han(noun):
                found.extend([] if noun in STOPWORDS else [noun])
                continue
            term = term_of(noun)
            if term not in self.index.df:
                resolved = resolve(self.index, term)
                term = resolved[0] if resolved else term
            found.append(term)
        return tuple(found)

    def _asks_something_else(self, query: Query, entry: Entry) -> bool:
        """The fact is about the product asked for, but not about what is asked of it.

        `How many cores does Trainium3 have?` must not get the Trainium3 fact that merely matches
        the name: apart from names, too little of the question is in the fact.
        """
        series = self.index.series
        asked = 0.0
        found = 0.0
        for term in query.terms:
            if term.name or term.term in series or term.term in INTENT_WORDS or term.borrowed:
                continue
            if not term.known and (
                is_han(term.term)
                or term.term in COMMON_TERMS
                or term.term in UNITS
                or term.source.endswith(("ed", "ing"))
            ):
                continue  # an everyday word or a verb the knowledge lacks is phrasing ("belong", "bumped")
            if _one_of(term, OWNER_WORDS) or _kind_word(term, query.kinds, entry.kinds):
                continue
            if term.term in _LIGHT_VERBS:
                continue  # "does Trainium3 use the same cooling?" asks about cooling, not use
            asked += term.weight
            if term.term in entry.asked or term.term in entry.answered:
                found += term.weight
        return asked > 0 and found < _ATTRIBUTE_SHARE * asked

    def _han_terms(self, run: str, terms: list[QueryTerm], unknown: list[str]) -> None:
        """Known characters and bigrams of a Han run; unknown bigrams are mostly word boundaries."""
        index = self.index
        for term in index.han(run):
            if term in HAN_TIME and term not in index.df:
                unknown.append(term)
            elif term in _HAN_SKIPPED:
                continue
            elif term in index.df:
                terms.append(QueryTerm(term, index.idf(term), True, source=run, name=term in HAN_TIME))
            elif len(term) == 1:
                terms.append(QueryTerm(term, index.unknown_weight * _UNKNOWN_HAN, False, source=run))

    def _known(self, term: str, proper: bool = False, source_digits: bool = True) -> QueryTerm | None:
        """The term as the vocabulary knows it, directly or as a misspelling or abbreviation.

        Numbers and words written like names (`Lambda` mid-sentence) are names: the answer must
        be about them, not merely about something next to them.
        """
        index = self.index
        name = (has_digit(term) and not term.isdigit()) or proper or (term.isdigit() and source_digits)
        if term in index.df:
            return QueryTerm(term, index.idf(term), True, source=term, name=name)
        if is_han(term):
            return None
        resolved = resolve(index, term)
        if resolved is None:
            return None
        return QueryTerm(
            resolved[0], index.idf(resolved[0]), True, credit=resolved[1], source=term, name=name
        )

    def rank(self, query: Query) -> list[Scored]:
        """Candidate facts by score, best first.

        Coverage is cheap (read from the postings), so every candidate gets it; only the best RERANKED
        by coverage are compared variant by variant, and only while their coverage leaves them a
        chance to beat the best so far (the other two parts add at most their weights).
        """
        total = sum(t.weight for t in query.terms)
        if total <= 0:
            return []
        entries = self.index.entries
        found, complete = self.index.candidates(query.terms, CANDIDATES)
        if query.packs:
            packs = self.knowledge.fact_packs
            found = [(p, shared) for p, shared in found if packs.get(self.index.fact(p).id) in query.packs]
        shares = (
            [shared for _, shared in found]
            if complete
            else self.index.coverage(query.terms, [p for p, _ in found])
        )
        covered = [(shared / total, p) for (p, _), shared in zip(found, shares, strict=True)]
        covered.sort(key=lambda pair: pair[0], reverse=True)
        a, b, c = _WEIGHTS
        ranked: list[Scored] = []
        best = 0.0
        bonus = _TOPIC_BONUS if query.topic else 0.0
        lead = _LEAD_BONUS if query.previous is None and self._subject_only(query) else 0.0
        sorted_text = sorted_words(query.text)
        for coverage, position in covered[:RERANKED]:
            if len(ranked) >= SUGGESTIONS and a * coverage + b + c + bonus < best:
                break
            scored = self.score(query, entries[position], coverage, sorted_text)
            if bonus and scored.entry.topic == query.topic:
                scored = dataclasses.replace(scored, score=scored.score + bonus)
            if scored.entry.id == query.previous:
                scored = dataclasses.replace(scored, score=scored.score - _REPEAT_PENALTY)
            if lead and scored.entry.id in self._leads:
                scored = dataclasses.replace(scored, score=scored.score + lead)
            best = max(best, scored.score)
            ranked.append(scored)
        ranked.sort(key=lambda s: s.score, reverse=True)
        return ranked

    def score(self, query: Query, entry: Entry, coverage: float, sorted_text: str) -> Scored:
        """`sorted_text` is the question's words sorted, as token_sort_ratio compares them: the
        variants' are sorted once, when the entry is made, so each comparison is one ratio in C."""
        present = [t.term for t in query.terms if t.known and t.term in entry.asked]
        weight = self.index.weights.__getitem__
        best_variant = 0.0
        for terms, whole in zip(entry.variant_terms, entry.variant_weights, strict=True) if present else ():
            if whole > 0:
                covered = sum(map(weight, filter(terms.__contains__, present)))
                if covered > best_variant * whole:
                    best_variant = covered / whole
        found = process.extractOne(
            sorted_text,
            entry.sorted_en if query.language == "en" else entry.sorted_zh,
            scorer=fuzz.ratio,
            processor=None,
        )
        a, b, c = _WEIGHTS
        similarity = found[1] / 100 if found is not None else 0.0
        return Scored(
            entry, a * coverage + b * best_variant + c * similarity, coverage, best_variant, similarity
        )

    def find_launch(self, name: str) -> LaunchLookup:
        """The launch a user means by `name` (fuzzy: `graviton 5`, `trn3`), else the closest three."""
        key = compact(name)
        if not key:
            return LaunchLookup(None, tuple(list(self.knowledge.launches.values())[:SUGGESTIONS]))
        scored = self._launch_scores(key)
        if scored and scored[0][1] >= 85:
            return LaunchLookup(scored[0][0])
        return LaunchLookup(None, tuple(launch for launch, score in scored[:SUGGESTIONS] if score >= 40))

    def _launch_scores(self, key: str) -> list[tuple[Launch, float]]:
        best: dict[str, tuple[Launch, float]] = {}
        for launch, candidate in self._launch_names:
            score = _name_score(key, candidate)
            if launch.id not in best or score > best[launch.id][1]:
                best[launch.id] = (launch, score)
        return sorted(best.values(), key=lambda pair: pair[1], reverse=True)

    def complete_launch(self, prefix: str, limit: int = 25) -> list[Launch]:
        """Launches for an autocomplete box: prefix matches first, then fuzzy ones."""
        key = compact(prefix)
        launches = list(self.knowledge.launches.values())
        if not key:
            return launches[:limit]
        ranked: list[tuple[float, int, Launch]] = []
        for order, (launch, score) in enumerate(self._launch_scores(key)):
            names = [c for ln, c in self._launch_names if ln.id == launch.id]
            if any(c.startswith(key) for c in names):
                score = 200.0
            elif any(key in c for c in names):
                score = 150.0
            else:
                score = max(fuzz.partial_ratio(key, c) for c in names)
            if score >= 70:
                ranked.append((score, -order, launch))
        ranked.sort(key=lambda item: (item[0], item[1]), reverse=True)
        return [launch for _, _, launch in ranked[:limit]]


def _anchors(query: Query, entry: Entry) -> int:
    """The question's words (not single Han characters or intent words) that the fact has."""
    return sum(
        1
        for t in query.terms
        if t.known
        and not t.borrowed
        and len(t.term) > 1
        and t.term not in INTENT_WORDS
        and (t.term in entry.asked or t.term in entry.answered)
    )


@functools.lru_cache(maxsize=4096)
def _counts(answer: str, nouns: tuple[str, ...]) -> bool:
    """`counts`, remembered: "how many cores" is asked of the same answers again and again."""
    return counts(answer, nouns, term_of)


@functools.lru_cache(maxsize=1024)
def _clauses(answer: str) -> tuple[tuple[frozenset[str], bool], ...]:
    """An answer's clauses, each as its terms and whether it has a number (read once per answer)."""
    if answer.count(",") + answer.count(";") + answer.count(":") < 2:
        return ()
    return tuple(
        (frozenset(term_of(w.text) for w in words(clause)), has_number(clause))
        for clause in _CLAUSES.split(answer)
    )


@functools.lru_cache(maxsize=1024)
def _spelt_out(short: str, answer: str) -> bool:
    """The answer gives the long form of `short`: words with its initials (NKI: Neuron Kernel
    Interface; HBM: high-bandwidth memory)."""
    pattern = r"[\s-]+".join(f"{letter}[a-z]+" for letter in short.casefold())
    return re.search(rf"\b{pattern}\b", answer, re.IGNORECASE) is not None


def _kind_word(term: QueryTerm, asked: frozenset[Kind], given: frozenset[Kind]) -> bool:
    """The term only says which kind of answer is wanted, and the fact gives that kind (mechanisms and
    lists, read too loosely from answers, are taken as given)."""
    return any(kind in given or kind in SOFT for kind in asked if _one_of(term, KIND_WORDS[kind]))


def _one_of(term: QueryTerm, words: frozenset[str]) -> bool:
    """The term is one of `words`, or a character of one of them in the question (公 of 公司)."""
    return term.term in words or _han_part_of(term.term, term.source, words)


@functools.lru_cache(maxsize=4096)
def _han_part_of(term: str, source: str, words: frozenset[str]) -> bool:
    return is_han(term) and any(term in word for word in words if word in source)


def _needs_amount(query: Query, answer: str) -> bool:
    """The question asks for a price or a unit that the fact's answer does not give."""
    answer = answer.casefold()
    words = set(query.text.split())
    asks_price = bool(words & MONEY_WORDS) and not _VALUE_FOR_MONEY.search(query.text)
    money = asks_price or any(word in query.text for word in MONEY_HAN)
    if money and not re.search(r"\d\s*%|\$|美元|usd", answer):
        return True
    units = words & UNITS
    return any(not re.search(rf"\d\s*{unit}", answer) for unit in units)


def _title_case(tokens: list[Token]) -> bool:
    """Headline style (`How Many Cores Does Graviton5 Have`): capitals then say nothing about names."""
    rest = [token for token in tokens[1:] if token.text.isalpha() and token.text.isascii()]
    return len(rest) >= 3 and sum(token.proper for token in rest) >= 0.6 * len(rest)


def _missing_names(query: Query, entry: Entry, section: frozenset[str] = frozenset()) -> tuple[str, ...]:
    """The numbers and names of the question that neither the fact nor its topic and launch mention.

    A name its section mentions (`section`: `trn3` in Decart's section) is not missing when the
    question also names the fact's own subject: "Decart's frame rate on trn3" is about Decart.
    """
    missing = [
        term
        for term in query.terms
        if term.name
        and term.term not in entry.asked
        and term.term not in entry.answered
        and term.term not in entry.around
    ]
    if missing and section and any(_names_own_subject(t.term, entry) for t in query.terms):
        missing = [
            term for term in missing if term.term not in section or _other_generation(term.term, entry)
        ]
    return tuple(term.source or term.term for term in missing)


def _names_own_subject(term: str, entry: Entry) -> bool:
    """`decart` for a Decart fact; never its section's name, a product line or a generation
    (`graviton`, `graviton5`), which many facts share."""
    return term in entry.subject and not has_digit(term) and not _is_line(term, entry)


def _is_line(term: str, entry: Entry) -> bool:
    return any(series_prefix(own) == term for own in entry.subject)


def _other_generation(term: str, entry: Entry) -> bool:
    """`graviton4` asked of a fact about `graviton5`: another generation of the fact's own product."""
    line = series_prefix(term)
    return line is not None and any(series_prefix(t) == line for t in entry.asked | entry.answered)


def _name_score(key: str, candidate: str) -> float:
    if key == candidate:
        return 100.0
    score = fuzz.ratio(key, candidate)
    if has_digit(key) and "".join(c for c in key if c.isdigit()) != "".join(
        c for c in candidate if c.isdigit()
    ):
        return min(score, 60.0)
    if key[0] == candidate[0] and _in_order(key, candidate):
        score = max(score, 90.0 if len(key) >= 3 else score)
    return score


def _in_order(short: str, long: str) -> bool:
    remaining = iter(long)
    return all(ch in remaining for ch in short)


def ambiguous_facts(knowledge: Knowledge) -> list[Problem]:
    """Warnings for pairs of facts whose question variants the matcher cannot tell apart.

    Each variant is asked as a question; if another fact scores as high as (or higher than) the
    fact the variant belongs to, a user asking it could get either answer.
    """
    matcher = Matcher(knowledge)
    warnings: dict[tuple[str, str], Problem] = {}
    for entry in matcher.index.entries:
        own_id = entry.id
        for language in ("en", "zh"):
            for variant in entry.fact.questions.get(language):
                ranked = matcher.rank(matcher.query(variant))
                own = next((s.score for s in ranked if s.entry.id == own_id), 0.0)
                for other in ranked:
                    other_id = other.entry.id
                    if other_id == own_id or other.score < own - _AMBIGUOUS_MARGIN:
                        continue
                    pair = (min(own_id, other_id), max(own_id, other_id))
                    if pair in warnings:
                        continue
                    warnings[pair] = Problem(
                        knowledge.fact_files.get(own_id, "?"),
                        f"question variant {variant!r} matches fact {other_id!r} "
                        f"({knowledge.fact_files.get(other_id, '?')}) as well as its own "
                        f"({other.score:.2f} vs {own:.2f}): the matcher cannot tell them apart",
                        own_id,
                        "questions",
                        severity="warning",
                    )
    return list(warnings.values())
