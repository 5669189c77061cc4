"""What the bot can do, with examples to copy."""

from __future__ import annotations

from bot.replies import Reply, Section
from bot.texts import text
from knowledge.models import Language

_COMMANDS: dict[Language, list[tuple[str, str]]] = {
    "en": [
        ("Ask a question", "How many cores does Graviton5 have?\nTrainium3的内存带宽是多少？"),
        ("/ask QUESTION", "The same as asking: /ask what is S3 Vectors?"),
        ("/launch [NAME]", "A launch's summary card, or the list of launches: /launch trn3"),
        ("/digest [TOPIC]", "Every launch in one message, optionally one theme: /digest ai chips"),
        (
            "/digest subscribe SCHEDULE [TOPIC]",
            "Post the digest here on a schedule (channel managers):\n"
            "/digest subscribe weekdays 09:00 tz=Asia/Shanghai\n"
            "/digest subscribe weekly mon 09:00 ai chips lang=zh\n"
            "Schedules: daily HH:MM, weekdays HH:MM, weekly DAY HH:MM, or cron (0 9 * * 1-5)\n"
            "/digest list · /digest unsubscribe ID",
        ),
        ("/reload", "Reload the knowledge files now (channel managers)"),
        ("/help", "This message"),
    ],
    "zh": [
        ("直接提问", "Graviton5有多少个核心？\nHow many cores does Graviton5 have?"),
        ("/ask 问题", "与直接提问相同：/ask S3 Vectors 是什么？"),
        ("/launch [名称]", "某个发布的摘要卡片，或全部发布列表：/launch trn3"),
        ("/digest [主题]", "一条消息看完全部发布，可按主题筛选：/digest AI 芯片"),
        (
            "/digest subscribe 时间表 [主题]",
            "按时间表在本频道发布摘要（频道管理员）：\n"
            "/digest subscribe weekdays 09:00 tz=Asia/Shanghai\n"
            "/digest subscribe weekly mon 09:00 AI 芯片 lang=zh\n"
            "时间表：daily HH:MM、weekdays HH:MM、weekly 星期 HH:MM，或 cron（0 9 * * 1-5）\n"
            "/digest list · /digest unsubscribe 编号",
        ),
        ("/reload", "立即重新加载知识文件（频道管理员）"),
        ("/help", "显示本帮助"),
    ],
}


def help_reply(language: Language) -> Reply:
    return Reply(
        kind="help",
        language=language,
        title=text("help_title", language),
        sections=[Section(heading=name, text=example) for name, example in _COMMANDS[language]],
    )
