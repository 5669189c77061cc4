"""Every command's reply, read back the way a user reads it (Errbot's testbot style)."""

from __future__ import annotations

from bot.app import MAX_QUESTION, Bot
from bot.commands.launch import KEY_FACTS


async def test_question_answered_with_source_and_feedback_buttons(bot: Bot) -> None:
    reply = await bot.message("<@U0BOT> how many cores does Graviton5 have?")
    assert reply.kind == "answer"
    assert "192" in reply.plain_text()
    assert reply.source and reply.source.startswith("Keynote ")
    assert reply.fact_id
    assert [b.action for b in reply.buttons] == ["feedback_up", "feedback_down"]
    assert all(b.value == reply.fact_id for b in reply.buttons)


async def test_slash_ask_is_the_same_as_asking(bot: Bot) -> None:
    asked = await bot.message("how many cores does Graviton5 have?")
    slashed = await bot.command("ask", "how many cores does Graviton5 have?")
    assert asked == slashed


async def test_chinese_question_gets_a_chinese_reply(bot: Bot) -> None:
    reply = await bot.message("Trainium3的内存带宽是多少？")
    assert reply.language == "zh"
    assert "700" in reply.plain_text()
    assert reply.source and reply.source.startswith("主题演讲 ")


async def test_unknown_thing_abstains_with_clickable_suggestions(bot: Bot) -> None:
    reply = await bot.message("How many cores does Graviton6 have?")
    assert reply.kind == "abstain"
    assert "192" not in reply.plain_text()
    assert len(reply.suggestions) <= 3
    assert reply.suggestions
    assert [b.value for b in reply.buttons] == reply.suggestions
    clicked = await bot.action("ask", reply.buttons[0].value)
    assert clicked.kind == "answer"


async def test_empty_and_overlong_questions_get_clear_private_errors(bot: Bot) -> None:
    for empty in ("", "   ", "<@U0BOT>"):
        reply = await bot.message(empty)
        assert reply.kind == "error" and reply.private
        assert "Graviton5" in reply.plain_text(), "the usage hint shows an example question"
    long = await bot.command("ask", "graviton " * 5000)
    assert long.kind == "error" and long.private
    assert f"{MAX_QUESTION:,}" in long.plain_text()


async def test_launch_card_by_fuzzy_name(bot: Bot) -> None:
    for name in ("trn3", "Trainium 3", "trainum3"):
        reply = await bot.command("launch", name)
        assert reply.kind == "launch", name
        assert reply.title and "Trainium3" in reply.title
    card = await bot.command("launch", "graviton 5")
    text = card.plain_text()
    assert "192" in text
    key_facts = next(s for s in card.sections if s.heading == "Key facts").text.splitlines()
    assert 1 <= len(key_facts) <= KEY_FACTS
    assert card.source and "28:00" in card.source
    assert any(kv.value for kv in card.fields)


async def test_launch_card_in_chinese(bot: Bot) -> None:
    reply = await bot.command("launch", "S3 向量")
    assert reply.kind == "launch"
    assert reply.language == "zh"


async def test_launch_without_name_lists_every_launch(bot: Bot) -> None:
    reply = await bot.command("launch", "")
    names = {launch.name for launch in bot.live.current.knowledge.launches.values()}
    assert reply.kind == "launches"
    assert all(name in reply.plain_text() for name in names)


async def test_unknown_launch_suggests_the_closest(bot: Bot) -> None:
    reply = await bot.command("launch", "graviton 9000 turbo")
    assert reply.kind == "error" and reply.private
    assert "graviton 9000 turbo" in reply.plain_text()
    assert 1 <= len(reply.suggestions) <= 3
    assert [b.action for b in reply.buttons] == ["launch"] * len(reply.buttons)
    clicked = await bot.action("launch", reply.buttons[0].value)
    assert clicked.kind == "launch"


async def test_digest_groups_every_launch_by_theme(bot: Bot) -> None:
    reply = await bot.command("digest", "")
    launches = bot.live.current.knowledge.launches.values()
    assert reply.kind == "digest"
    assert [s.heading for s in reply.sections] == [
        h
        for h in ("Compute", "Serverless", "Inference", "Vector search", "AI chips")
        if any(s.heading == h for s in reply.sections)
    ]
    assert len(reply.sections) == len({launch.theme for launch in launches})
    assert all(launch.name in reply.plain_text() for launch in launches)


async def test_digest_filtered_by_topic_in_either_language(bot: Bot) -> None:
    chips = await bot.command("digest", "ai chips")
    assert [s.heading for s in chips.sections] == ["AI chips"]
    zh = await bot.command("digest", "向量搜索")
    assert zh.language == "zh"
    assert [s.heading for s in zh.sections] == ["向量搜索"]
    unknown = await bot.command("digest", "gardening")
    assert unknown.kind == "error" and "gardening" in unknown.plain_text()
    assert "Compute" in unknown.plain_text()


async def test_help_lists_the_commands(bot: Bot) -> None:
    reply = await bot.command("help", "")
    text = reply.plain_text()
    for command in ("/ask", "/launch", "/digest", "/help"):
        assert command in text
    assert (await bot.message("/help")) == reply


async def test_unknown_command_is_a_private_error(bot: Bot) -> None:
    reply = await bot.message("/frobnicate now")
    assert reply.kind == "error" and reply.private
    assert "/frobnicate" in reply.plain_text()
    assert "/launch" in reply.suggestions


async def test_feedback_click_is_acknowledged_privately(bot: Bot) -> None:
    answer = await bot.message("how many cores does Graviton5 have?")
    ack = await bot.action("feedback_up", answer.fact_id or "")
    assert ack.kind == "notice" and ack.private


async def test_clicks_on_a_chinese_reply_are_answered_in_chinese(bot: Bot) -> None:
    unknown = await bot.command("launch", "S3向量数据库服务")
    assert unknown.language == "zh" and unknown.buttons
    card = await bot.action("launch", unknown.buttons[0].value)
    assert card.kind == "launch" and card.language == "zh"
    assert card.source and card.source.startswith("主题演讲 ")
    answer = await bot.message("Graviton5有多少个核心？")
    thanks = await bot.action("feedback_up", answer.buttons[0].value)
    assert thanks.language == "zh" and thanks.kind == "notice"
    english = await bot.message("how many cores does graviton5 have?")
    assert (await bot.action("feedback_up", english.buttons[0].value)).language == "en"
