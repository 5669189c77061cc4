"""The bot's own words in both languages, so every reply follows the language of the question."""

from __future__ import annotations

from knowledge.models import Language, Status, Theme

_TEXTS: dict[str, tuple[str, str]] = {
    "source": ("Keynote {timestamp}", "主题演讲 {timestamp}"),
    "dont_know": (
        "I don't know that from the keynote.",
        "主题演讲里没有找到这个问题的答案。",
    ),
    "did_you_mean": ("Did you mean:", "你是不是想问："),
    "empty_question": (
        "Ask me a question about the keynote, for example: {example}",
        "请问一个关于主题演讲的问题，例如：{example}",
    ),
    "too_long": (
        "That message is {length:,} characters long; please ask in under {limit:,} characters.",
        "消息长度为 {length:,} 个字符，请控制在 {limit:,} 个字符以内。",
    ),
    "launch_unknown": ("No launch called “{name}”.", "没有名为“{name}”的发布。"),
    "launch_closest": ("Closest launches:", "最接近的发布："),
    "launches_title": ("Launches at the keynote", "主题演讲发布一览"),
    "launches_hint": ("Details: /launch NAME", "详情：/launch 名称"),
    "status": ("Status", "状态"),
    "customers": ("Customers", "客户"),
    "key_facts": ("Key facts", "要点"),
    "digest_title": ("AWS re:Invent 2025 keynote digest", "AWS re:Invent 2025 主题演讲摘要"),
    "digest_unknown_topic": ("No digest topic “{topic}”.", "没有“{topic}”这个摘要主题。"),
    "digest_topics": ("Topics: {topics}", "可选主题：{topics}"),
    "help_title": (
        "keynote-bot: ask me about the AWS re:Invent 2025 keynote",
        "keynote-bot：AWS re:Invent 2025 主题演讲问答",
    ),
    "unknown_command": ("Unknown command /{name}.", "未知命令 /{name}。"),
    "feedback_thanks": ("Thanks for the feedback!", "感谢反馈！"),
    "reloaded": (
        "Knowledge reloaded: {facts} facts, {launches} launches.",
        "知识已重新加载：{facts} 条事实，{launches} 个发布。",
    ),
    "reload_failed": (
        "Reload failed; still answering from the last good knowledge:\n{problems}",
        "重新加载失败，仍使用上一版有效知识：\n{problems}",
    ),
    "not_allowed": ("Only channel managers can do that.", "只有频道管理员可以执行此操作。"),
}

_STATUS: dict[Status, tuple[str, str]] = {
    "ga": ("Generally available", "正式可用"),
    "preview": ("Preview", "预览"),
    "coming": ("Coming", "即将推出"),
}

THEMES: dict[Theme, tuple[str, str]] = {
    "compute": ("Compute", "计算"),
    "serverless": ("Serverless", "无服务器"),
    "inference": ("Inference", "推理"),
    "vector-search": ("Vector search", "向量搜索"),
    "ai-chips": ("AI chips", "AI 芯片"),
}


def text(key: str, language: Language, **values: object) -> str:
    en, zh = _TEXTS[key]
    return (zh if language == "zh" else en).format(**values)


def status_label(status: Status, language: Language) -> str:
    en, zh = _STATUS[status]
    return zh if language == "zh" else en


def theme_label(theme: Theme, language: Language) -> str:
    en, zh = THEMES[theme]
    return zh if language == "zh" else en
