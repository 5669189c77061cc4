"""Questions as people type them in chat: noise, kinds of answer, two parts, small talk, off-topic.

Talked to the way a user talks to the bot (errbot's testbot style): the real Bot on the bundled
knowledge, a message in, the reply's text out.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from bot.app import Asked, Bot
from bot.context import Context
from bot.storage import Storage
from knowledge.kinds import _ASK, _NOT_MECHANISM, asked_kinds, counted, counts, given_kinds
from knowledge.matcher import _SOMEONE_HINTS, _SOMEONE_SAID
from knowledge.parts import new_topic, split_parts
from knowledge.properties import _ASKED, _NOT_ASKED, asked_properties
from tests.persistence import Clock

QUESTIONS_DIR = Path(__file__).parent.parent / "benchmarks" / "questions"


@pytest.mark.parametrize(
    ("question", "kind"),
    [
        ("who presented graviton?", "person"),
        ("谁上台讲的 graviton", "person"),
        ("twelvelabs 的 ceo 叫啥", "person"),
        ("when can I use it?", "time"),
        ("NKI 什么时候正式可用", "time"),
        ("is it available yet?", "time"),
        ("how many cores does g5 have", "number"),
        ("Graviton5有多少个核心", "number"),
        ("比上一代高几倍", "number"),
        ("how does it stay fast", "mechanism"),
        ("为什么要自己做芯片", "mechanism"),
        ("which customers use graviton", "list"),
        ("有哪些客户", "list"),
        ("what's his title", "person"),
        ("peter desantis 在 aws 是啥职位", "person"),
        ("Who delivered the keynote?", "person"),
        ("m9g ga when?", "time"),
        ("<@U0ABC> when m9g", "time"),
    ],
)
def test_the_kind_of_answer_a_question_asks_for_in_both_languages(question: str, kind: str) -> None:
    assert kind in asked_kinds(question)


@pytest.mark.parametrize(
    "question",
    [
        "what is project mantle",
        "tell me about s3 vectors",
        "project mantle 是什么",
        "how does it behave when traffic spikes",
        "how does fine tuning on bedrock behave when live traffic spikes",
        "what happens when traffic spikes",
    ],
)
def test_questions_that_ask_no_particular_kind(question: str) -> None:
    assert not asked_kinds(question) & {"person", "time", "number"}


def test_the_kinds_a_fact_gives_are_read_from_its_answer() -> None:
    assert given_kinds("Dave Brown came on stage to present Graviton.", ["Dave Brown"]) >= {"person"}
    assert "number" in given_kinds("Graviton5 puts 192 cores in a single package.", [])
    assert "time" in given_kinds("NKI becomes generally available in Q1.", [])
    assert "person" not in given_kinds("Graviton5 puts 192 cores in a single package.", ["Dave Brown"])
    assert given_kinds("Lambda runs it.", [], stated=["person"]) >= {"person"}, "a curator may state a kind"


def test_how_many_names_what_is_counted() -> None:
    assert counted("how many cores does g5 have") == ("cores", "does")
    assert counted("Graviton5有多少个核心") == ("核心",)
    assert counted("which ones") == ()
    assert counted("graviton5单个封装里有多少个核啊") == ("核",), "a final particle is not part of the noun"
    assert counted("那几个云的核心属性都有啥") == (), "几个X的Y counts Y: too far along to read, so nothing"


def test_a_count_in_chinese_numerals_counts() -> None:
    assert counts("推理请求包括四个阶段：分词、预填充、解码、去分词。", ("阶段",), str)
    assert not counts("推理请求包括多个阶段。", ("阶段",), str)


async def ask(bot: Bot, question: str, ctx: Context | None = None) -> str:
    return (await bot.message(question, ctx or Context())).plain_text()


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("yo how many cores on g5?? lol", "192"),
        ("<@U0ABC123> anyone know the trn3 hbm bandwidth tbh", "700"),
        ("gravitn5 core count? 🤔", "192"),
        ("请问 graviton5 有多少个核心来着", "192"),
        ("quick q: is s3 vectors GA?", "generally available"),
    ],
)
async def test_chat_noise_does_not_hide_the_question(bot: Bot, question: str, expected: str) -> None:
    reply = await bot.message(question)
    assert reply.kind == "answer", reply.plain_text()
    assert expected in reply.plain_text()


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("how many dims can real vector spaces get to", "dimension"),
        ("1M hours of video = how many years of nonstop watching", "114"),
        ("twelvelabs ceo叫啥", "Jae Lee"),
        ("graviton5单个封装里有多少个核啊", "192"),
        ("who is Payam Mirrashidi, which company", "Apple"),
        ("who patches lambda mi instances", "patching"),
        ("ArcXP 是谁家的", "华盛顿邮报"),
        ("s3 vectors 上线四个月建了多少个索引", "25万"),
        ("g4 bumped L2 from what to what", "2MB"),
        ("what does NKI stand for", "Neuron Kernel Interface"),
        ("NKI 全称是啥", "Neuron Kernel Interface"),
        ("nki full name?", "Neuron Kernel Interface"),
        ("who ran the graviton segment?", "Dave Brown"),
        ("who did the twelvelabs section", "Jae Lee"),
        ("how many TB of HBM on a trn3 ultra server", "20TB"),
        ("LMI 是啥东西", "Lambda"),
        ("Neuron Profiler 有啥特别的", "Neuron Profiler"),
        ("opensearch 有啥新东西", "OpenSearch"),
        ("how much did m9g improve over m8g", "25%"),
        ("decart 的 megakernel 由哪几部分组成", "编码器"),
        ("how many steps does an inference request go thru and what are they", "four stages"),
        ("Peter DeSantis 现在是啥职位来着", "公用计算高级副总裁"),
        ("trn3 ultraserver 算力多少 PFLOPS", "360"),
        ("Neuron Explorer 是干嘛用的", "Neuron Explorer"),
        ("decart's megakernel is trying to max out utilization of what", "tensor engines"),
        ("how does bedrock fine tuning deal w traffic spikes", "pause"),
        ("nitro got into a CS textbook?? which edition", "7th"),
    ],
)
async def test_chat_shorthand_and_english_amid_chinese_are_read(
    bot: Bot, question: str, expected: str
) -> None:
    """`1M`, `dims`, a particle after the counted noun, `ceo` typed amid Chinese (a word asked about,
    not a name the answer must repeat), "which company" asked of a person, `lambda MI` for LMI,
    25万个向量索引 counting 索引, a verb the knowledge lacks (`bumped`) read as phrasing; "stands for"
    and 全称 answered by the fact that spells the abbreviation out; `segment`/`section` saying nothing
    of which fact, "who ran/did the …" asking who presented it; `ultra server` for UltraServer;
    东西, 特别的 naming no attribute; "improve" and "better" as one idea; words that only say which
    kind of answer is wanted (哪几部分, "how many steps") answered by a fact of that kind; fillers
    (现在, 来着) read as nothing; 干嘛用的 asking what something is for; CS for computer science;
    "max out" asking for no maximum; `w` for with."""
    reply = await bot.message(question)
    assert reply.kind == "answer", reply.plain_text()
    assert expected in reply.plain_text()


async def test_a_who_question_gets_the_fact_that_names_a_person(bot: Bot) -> None:
    reply = await bot.message("who presented graviton?")
    assert reply.kind == "answer" and "Dave Brown" in reply.plain_text()


async def test_a_fact_that_does_not_count_what_is_asked_is_not_the_answer(bot: Bot) -> None:
    """Graviton4's L2 cache fact names Graviton4 and has a number, but no count of cores."""
    reply = await bot.message("How many cores does Graviton4 have?")
    assert reply.kind == "abstain"


async def test_a_two_part_question_gets_both_parts(bot: Bot) -> None:
    text = await ask(bot, "how much faster and how much cheaper was swift on graviton for apple")
    assert "40%" in text and "30%" in text
    text = await ask(bot, "trn3 ultraserver 内存带宽多少？比上一代高几倍？")
    assert "700" in text and "3.9" in text


def test_two_part_questions_are_cut_where_the_second_question_starts() -> None:
    assert split_parts("how much faster and how much cheaper was it") == [
        "how much faster",
        "how much cheaper was it",
    ]
    assert split_parts("g4的L2缓存多大 之前是多少") == ["g4的L2缓存多大", "之前是多少"]
    assert split_parts("what is the L3 and L2 cache") == ["what is the L3 and L2 cache"]
    assert split_parts("how many cores does graviton5 have?") == ["how many cores does graviton5 have?"]


@pytest.mark.parametrize(
    ("message", "language"),
    [
        ("hi", "en"),
        ("thanks!! 🙏", "en"),
        ("what can you do?", "en"),
        ("good bot", "en"),
        ("你好", "zh"),
        ("谢谢啦", "zh"),
    ],
)
async def test_small_talk_gets_a_friendly_pointer_not_a_missed_question(
    message: str, language: str, tmp_path: object, bot: Bot
) -> None:
    storage = Storage(f"sqlite:///{tmp_path}/db.sqlite3")
    storage.prepare()
    chatty = Bot(bot.live, storage=storage)
    reply = await chatty.message(message)
    await chatty.drain()
    assert reply.kind == "notice" and reply.language == language
    assert "/help" in reply.plain_text()
    assert len([b for b in reply.buttons if b.action == "ask"]) == 2, "two example questions to try"
    assert storage.missed_questions(None) == []
    storage.close()


@pytest.mark.parametrize(
    "question",
    [
        "anyone up for ramen near the venue?",
        "what did matt garman announce?",
        "what did werner say in his closing keynote",
        "What's the stock price of Amazon?",
        "how many cores does graviton7 have",
        "今天天气怎么样？",
        "Werner 的 keynote 讲了啥",
        "matt garman 的主题演讲讲了啥",
        "which regions is lambda managed instances available in",
        "lmi 在哪些区域可用",
        "what clock speed does graviton5 run at",
        "graviton5 用的几纳米工艺",
        "lambda 托管实例最大能给多少内存",
        "what's the max timeout for lambda managed instances",
    ],
)
async def test_off_topic_and_other_keynotes_get_an_honest_dont_know(bot: Bot, question: str) -> None:
    reply = await bot.message(question)
    assert reply.kind == "abstain", reply.plain_text()


async def test_a_follow_up_means_the_topic_of_the_conversation(bot: Bot) -> None:
    ada = Context(conversation="ada")
    assert "144" in await ask(bot, "how many chips in a Trainium3 UltraServer?", ada)
    assert "700" in await ask(bot, "what about its memory bandwidth?", ada)
    assert "144" in await ask(bot, "那它有多少芯片？", ada)


async def test_a_follow_up_that_names_a_new_product_switches_the_topic(bot: Bot) -> None:
    ada = Context(conversation="ada")
    await ask(bot, "how many chips in a Trainium3 UltraServer?", ada)
    assert "192" in await ask(bot, "ok different q, how many cores on graviton5", ada)
    assert "2.6" in await ask(bot, "and the L3 cache per core?", ada)


async def test_announcing_a_new_topic_leaves_the_old_one(bot: Bot) -> None:
    """ "switching" is the announcement, not a network switch, and nothing is borrowed from Trainium3."""
    ada = Context(conversation="ada")
    await ask(bot, "how many chips in a Trainium3 UltraServer?", ada)
    assert "Bedrock" in await ask(bot, "ok switching, what is project mantle", ada)
    assert "Dean Leitersdorf" in await ask(bot, "换个话题，decart 的 ceo 叫啥", ada)


def test_a_new_topic_is_announced_at_the_start_only() -> None:
    assert new_topic("ok diff q, what is nki") == "what is nki"
    assert new_topic("换个话题，decart 的 ceo 叫啥") == "decart 的 ceo 叫啥"
    assert new_topic("diff topic: ultraserver switch tech?") == "ultraserver switch tech?"
    assert new_topic("switch tech?") is None
    assert new_topic("what is the other thing") is None
    assert new_topic("unrelated") is None, "nothing left to ask"


async def test_a_conversation_is_one_user_in_one_place(bot: Bot) -> None:
    await ask(bot, "how many chips in a Trainium3 UltraServer?", Context(conversation="slack:C1:T1:ada"))
    reply = await bot.message("what about its memory bandwidth?", Context(conversation="slack:C1:T1:bob"))
    assert reply.kind == "abstain", "Bob never asked about Trainium3"


async def test_a_conversation_forgets_its_topic_after_ten_minutes(bot: Bot) -> None:
    clock = Clock(bot.clock())
    timed = Bot(bot.live, clock=clock)
    ada = Context(conversation="ada")
    await ask(timed, "how many chips in a Trainium3 UltraServer?", ada)
    clock.advance(minutes=11)
    reply = await timed.message("what about its memory bandwidth?", ada)
    assert reply.kind == "abstain"


async def test_observers_are_told_what_became_of_each_question(bot: Bot) -> None:
    seen: list[Asked] = []
    observed = Bot(bot.live, observers=[seen.append])
    await observed.message("<@U0ABC> how many cores does Graviton5 have?", Context(platform="slack"))
    await observed.message("what's the stock price of amazon?")
    await observed.message("thanks!")
    assert [a.outcome for a in seen] == ["answered", "declined", "small_talk"]
    assert seen[0].fact_id == "graviton5-cores" and seen[0].pack == "reinvent-2025-infrastructure"
    assert seen[0].platform == "slack" and "U0ABC" not in seen[0].question, "mentions are masked"


async def test_a_failing_observer_never_costs_the_answer(bot: Bot) -> None:
    def broken(asked: Asked) -> None:
        raise RuntimeError("observer down")

    reply = await Bot(bot.live, observers=[broken]).message("how many cores does Graviton5 have?")
    assert reply.kind == "answer" and "192" in reply.plain_text()


def test_a_property_is_asked_and_stated_in_words_of_its_own() -> None:
    assert asked_properties("is graviton5 on 3nm") == ("process node",)
    assert asked_properties("lmi 在哪些区域可用") == ("region",)
    assert asked_properties("how do i post this in slack") == (), "slack is not an SLA"
    assert asked_properties("max vectors per index") == ("maximum",)


def _asked_questions() -> list[str]:
    """Every question of the benchmark sets, casefolded as the patterns see them."""
    texts: list[str] = []
    for path in sorted(QUESTIONS_DIR.glob("*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            case = json.loads(line)
            texts += [turn["q"].casefold() for turn in case.get("turns", [case])]
    return texts


def test_the_hints_never_skip_a_pattern_that_would_match() -> None:
    """The words checked before a pattern is searched only save time: on every benchmark question the
    answer is what searching every pattern gives."""
    questions = _asked_questions()
    assert len(questions) > 1000
    for text in questions:
        assert asked_kinds(text) == _plain_kinds(text), text
        plain = _NOT_ASKED.sub(" ", text)
        assert asked_properties(text) == tuple(n for n, p in _ASKED.items() if p.search(plain)), text
        if _SOMEONE_SAID.search(text):
            assert any(hint in text for hint in _SOMEONE_HINTS), text


def _plain_kinds(text: str) -> frozenset[str]:
    found = {kind for kind, pattern in _ASK.items() if pattern.search(text)}
    if "mechanism" in found and _NOT_MECHANISM.search(text) and not re.search(r"\bwhy\b|为什么|为啥", text):
        found.discard("mechanism")
    return frozenset(found)


async def test_an_abbreviation_nothing_spells_out_is_not_guessed(bot: Bot) -> None:
    """No fact spells out SAP: the SAP fact that merely names it is not what "stands for" asks."""
    reply = await bot.message("what does SAP stand for")
    assert reply.kind == "abstain", reply.plain_text()


async def test_a_list_answer_does_not_give_one_item_the_others_numbers(bot: Bot) -> None:
    """The Graviton customer results give Adobe's and Pinterest's percentages, not Epic Games'."""
    assert "47%" in await ask(bot, "graviton customer stats from dave brown's part?")
    reply = await bot.message("what % did epic games save with graviton?")
    assert reply.kind == "abstain", reply.plain_text()


async def test_a_follow_up_is_not_answered_from_another_products_section(bot: Bot) -> None:
    """After Trainium3's memory, "vs last gen?" is the UltraServer against its predecessor, not
    Graviton5's cache against the previous generation; a light verb ("use") does not make the Trainium3
    chip list an answer about cooling."""
    ada = Context(conversation="ada")
    assert "20TB" in await ask(bot, "trn3 ultraserver memory?", ada)
    assert "Graviton5" not in await ask(bot, "vs last gen tho?", ada)
    reply = await bot.message("does trn3 use the same cooling?")
    assert reply.kind == "abstain", reply.plain_text()


async def test_two_parts_joined_by_a_plus_or_an_enumeration_comma_get_both(bot: Bot) -> None:
    text = await ask(bot, "apple swift-on-graviton perf + cost numbers?")
    assert "40%" in text and "30%" in text
    text = await ask(bot, "apple 用 swift 跑 graviton 性能提升多少、成本降多少")
    assert "40%" in text and "30%" in text


@pytest.mark.parametrize("question", ["when does m9g go GA", "m9g 什么时候正式可用"])
async def test_a_preview_is_not_an_answer_to_when_it_goes_ga(bot: Bot, question: str) -> None:
    reply = await bot.message(question)
    assert reply.kind == "abstain", reply.plain_text()


async def test_ga_is_answered_where_the_answer_says_it(bot: Bot) -> None:
    assert "Q1" in await ask(bot, "NKI GA when?")
    assert "GA" in await ask(bot, "s3 vectors GA 了没")


async def test_they_and_their_point_back_in_both_languages(bot: Bot) -> None:
    """他们 (they) is the company the conversation is about, not a word to find in a fact."""
    ada = Context(conversation="ada")
    assert "90%" in await ask(bot, "twelvelabs 说视频数据占多少", ada)
    assert "Jae Lee" in await ask(bot, "他们 CEO 叫啥", ada)


async def test_asking_for_another_is_not_answered_with_the_same(bot: Bot) -> None:
    """ "还有别的机制吗" after Mantle's queue isolation asks for a mechanism other than that one."""
    ada = Context(conversation="ada")
    first = await ask(bot, "mantle 怎么隔离客户", ada)
    assert "队列" in first
    other = await bot.message("还有别的机制吗", ada)
    assert other.plain_text() != first and "队列" not in other.plain_text()


async def test_a_question_that_only_names_a_launch_gets_its_overview(bot: Bot) -> None:
    """ "tell me about the trn3 ultraserver" asks nothing in particular: the launch's first fact, not
    whichever of its details scores a hair higher."""
    assert "144" in await ask(bot, "tell me about the trn3 ultraserver")


async def test_which_ones_are_there_says_a_list_is_wanted_not_of_what(bot: Bot) -> None:
    """有哪些 after an M9g question asks for M9g's customers: 有哪 must not pull the answer to the Graviton
    fact that happens to be asked as "Graviton有哪些客户案例"."""
    ada = Context(conversation="ada")
    assert "25%" in await ask(bot, "m9g 比上一代快多少", ada)
    customers = await ask(bot, "有哪些客户的数据", ada)
    assert "Airbnb" in customers and "Adobe" not in customers


async def test_can_use_asks_when_it_is_available_not_about_using(bot: Bot) -> None:
    """能用 (can use) in "啥时候能用" is grammar, like 用: the answer is when PyTorch on Trainium is
    available, which says nothing of using."""
    ada = Context(conversation="ada")
    assert "neuron" in await ask(bot, "pytorch 在 trainium 上要改代码吗", ada)
    assert "2026" in await ask(bot, "啥时候能用", ada)
