"""The bot's own words in both languages, so every reply follows the language of the question.

No event, product or speaker is named here: what names the keynote (its event, title, themes and
example questions) comes from the knowledge pack.
"""

from __future__ import annotations

from knowledge.loader import Knowledge
from knowledge.models import Language, Status

_TEXTS: dict[str, tuple[str, str]] = {
    "source": ("Keynote {timestamp}", "主题演讲 {timestamp}"),
    "dont_know": (
        "I don't know that from {keynote}.",
        "{keynote}里没有找到这个问题的答案。",
    ),
    "did_you_mean": ("Did you mean:", "你是不是想问："),
    "part_unknown": (
        "“{part}”: I don't know that part from {keynote}.",
        "“{part}”：{keynote}里没有找到这部分的答案。",
    ),
    "small_talk": (
        "Hi! I answer questions about {keynote} from curated facts. Ask me anything about it, "
        "or type /help to see what I can do. For example:",
        "你好！我根据整理好的资料回答关于{keynote}的问题。直接提问即可，输入 /help 查看全部功能。例如：",
    ),
    "empty_question": (
        "Ask me a question about {keynote}, for example: {example}",
        "请问一个关于{keynote}的问题，例如：{example}",
    ),
    "too_long": (
        "That message is {length:,} characters long; please ask in under {limit:,} characters.",
        "消息长度为 {length:,} 个字符，请控制在 {limit:,} 个字符以内。",
    ),
    "launch_unknown": ("No launch called “{name}”.", "没有名为“{name}”的发布。"),
    "launch_closest": ("Closest launches:", "最接近的发布："),
    "launches_title": ("Launches at {keynote}", "{keynote}发布一览"),
    "launches_hint": ("Details: /launch NAME", "详情：/launch 名称"),
    "status": ("Status", "状态"),
    "customers": ("Customers", "客户"),
    "key_facts": ("Key facts", "要点"),
    "digest_title": ("{event} keynote digest", "{event} 主题演讲摘要"),
    "digest_unknown_topic": ("No digest topic “{topic}”.", "没有“{topic}”这个摘要主题。"),
    "digest_topics": ("Topics: {topics}", "可选主题：{topics}"),
    "help_title": (
        "keynote-bot: ask me about the {event} keynote",
        "keynote-bot：{event} 主题演讲问答",
    ),
    "unknown_command": ("Unknown command /{name}.", "未知命令 /{name}。"),
    "button_expired": (
        "This button has expired; please ask the question again.",
        "这个按钮已过期，请重新提问。",
    ),
    "failed": ("Sorry, something went wrong; please try again.", "抱歉，出了点问题，请重试。"),
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
    "every_day": ("every day at {at}", "每天 {at}"),
    "every_weekday": ("every weekday (Monday to Friday) at {at}", "每个工作日（周一至周五）{at}"),
    "every_week": ("every {day} at {at}", "每{day} {at}"),
    "sub_id_needed": (
        "Which subscription? Give its number, e.g. /digest unsubscribe 3; /digest list shows them.",
        "要取消哪个订阅？请给出编号，例如 /digest unsubscribe 3；/digest list 可查看全部订阅。",
    ),
    "schedule_missing": (
        "The schedule is missing.",
        "缺少时间表。",
    ),
    "schedule_time": (
        "`{form}` needs a 24-hour time like 09:00, not “{got}”.",
        "`{form}` 后面需要 24 小时制时间，例如 09:00，而不是“{got}”。",
    ),
    "schedule_time_missing": (
        "`{form}` needs a 24-hour time like 09:00.",
        "`{form}` 后面需要 24 小时制时间，例如 09:00。",
    ),
    "schedule_day": (
        "`weekly` needs a day (mon, tue, … sun) and then a time, not “{got}”.",
        "`weekly` 后面需要星期几（mon、tue…sun）和时间，而不是“{got}”。",
    ),
    "schedule_not_cron": (
        "“{got}” is not a schedule.",
        "“{got}”不是有效的时间表。",
    ),
    "schedule_bad_cron": (
        "“{got}” is not a valid cron expression (minute hour day month weekday).",
        "“{got}”不是有效的 cron 表达式（分 时 日 月 星期）。",
    ),
    "schedule_never": ("“{got}” never runs.", "“{got}”永远不会触发。"),
    "schedule_too_often": (
        "“{got}” runs more than once an hour; digests are at most hourly.",
        "“{got}”每小时触发不止一次；摘要最多每小时发布一次。",
    ),
    "schedule_timezone": (
        "Unknown time zone “{got}”: use a name like UTC, Europe/London or Asia/Shanghai.",
        "未知时区“{got}”：请使用 UTC、Europe/London 或 Asia/Shanghai 这样的名称。",
    ),
    "sub_language": (
        "Unknown language “{got}”: use lang=en or lang=zh.",
        "未知语言“{got}”：请使用 lang=en 或 lang=zh。",
    ),
    "sub_option": (
        "Unknown option “{got}”: use tz=ZONE or lang=en|zh.",
        "未知选项“{got}”：请使用 tz=时区 或 lang=en|zh。",
    ),
    "sub_usage": (
        "Usage: /digest subscribe daily 09:00 | weekdays 09:00 | weekly mon 09:00 | CRON "
        "[TOPIC] [tz=Asia/Shanghai] [lang=en|zh] · /digest list · /digest unsubscribe ID",
        "用法：/digest subscribe daily 09:00 | weekdays 09:00 | weekly mon 09:00 | CRON "
        "[主题] [tz=Asia/Shanghai] [lang=en|zh] · /digest list · /digest unsubscribe 编号",
    ),
    "sub_channel_only": (
        "Digest subscriptions belong to a channel: use this command in one.",
        "摘要订阅属于某个频道：请在频道中使用此命令。",
    ),
    "sub_unavailable": (
        "Digest subscriptions are unavailable right now (the database cannot be reached). "
        "Questions still work; please try again later.",
        "摘要订阅暂时不可用（无法连接数据库）。问答功能不受影响，请稍后再试。",
    ),
    "sub_too_many": (
        "This channel already has {count} digest subscriptions, the most allowed. "
        "Remove one with /digest unsubscribe ID.",
        "本频道已有 {count} 个摘要订阅，已达上限。请先用 /digest unsubscribe 编号 删除一个。",
    ),
    "sub_created": (
        "Subscribed #{id}: the digest{topic} will be posted here {schedule}. Next: {next}.",
        "已订阅 #{id}：摘要{topic}将按 {schedule} 在本频道发布。下一次：{next}。",
    ),
    "sub_list_title": ("Digest subscriptions in this channel", "本频道的摘要订阅"),
    "sub_list_empty": (
        "This channel has no digest subscriptions. Add one with /digest subscribe weekdays 09:00",
        "本频道没有摘要订阅。可用 /digest subscribe weekdays 09:00 添加。",
    ),
    "sub_line": (
        "#{id} · {schedule}{topic} · {lang} · next: {next}",
        "#{id} · {schedule}{topic} · {lang} · 下一次：{next}",
    ),
    "sub_paused": (
        "paused: the bot cannot post here ({reason}); it resumes when the bot is back",
        "已暂停：机器人目前无法在此发布（{reason}），恢复后会继续",
    ),
    "sub_failing": ("last post failed ({attempts}×): {error}", "最近一次发布失败（{attempts} 次）：{error}"),
    "sub_removed": ("Unsubscribed #{id}.", "已取消订阅 #{id}。"),
    "sub_not_found": (
        "No digest subscription #{id} in this channel; /digest list shows them.",
        "本频道没有编号为 #{id} 的摘要订阅；可用 /digest list 查看。",
    ),
    "digest_changes": ("New or changed since last time", "自上次以来新增或更新"),
    "change_new": ("New", "新增"),
    "change_changed": ("Changed", "更新"),
    "change_more": ("… and {count} more", "……另有 {count} 项"),
    "sub_bad_id": (
        "“{got}” is not a subscription number: use /digest unsubscribe 3, with a number from /digest list.",
        "“{got}”不是订阅编号：请使用 /digest unsubscribe 3 这样的格式，编号见 /digest list。",
    ),
    "rate_limited": (
        "You're asking faster than I can keep up with: please slow down and try again in {seconds} s.",
        "你提问的速度有点快，请稍等 {seconds} 秒后再试。",
    ),
}

_STATUS: dict[Status, tuple[str, str]] = {
    "ga": ("Generally available", "正式可用"),
    "preview": ("Preview", "预览"),
    "coming": ("Coming", "即将推出"),
    "announced": ("Announced", "已发布"),
}


def text(key: str, language: Language, **values: object) -> str:
    en, zh = _TEXTS[key]
    return (zh if language == "zh" else en).format(**values)


def source_line(timestamp: str, speaker: str | None, language: Language, keynote: str | None = None) -> str:
    """Where in the keynote something was said: `Keynote 28:00 · Dave Brown`, or with several packs
    `Orbit Summit 2030 keynote 28:00 · Bo Lind`."""
    source = f"{keynote} {timestamp}" if keynote else text("source", language, timestamp=timestamp)
    return f"{source} · {speaker}" if speaker else source


def keynote_name(knowledge: Knowledge, language: Language) -> str:
    """How a reply refers to what it answers from: "the keynote", or "these keynotes" with several."""
    if len(knowledge.packs) > 1:
        return "these keynotes" if language == "en" else "这些主题演讲"
    return "the keynote" if language == "en" else "主题演讲"


def keynote_event(knowledge: Knowledge, language: Language) -> str:
    """The event (or events) the knowledge is about: `AWS re:Invent 2025`."""
    return " · ".join(dict.fromkeys(pack.event for pack in knowledge.packs.values()))


def examples(knowledge: Knowledge, language: Language, count: int = 2) -> list[str]:
    """Questions to try, from the packs' examples (commands left out), taking from each pack in turn."""
    pools = [
        [q for q in pack.examples.get(language) if not q.startswith("/")] for pack in knowledge.packs.values()
    ]
    chosen: list[str] = []
    for position in range(max((len(pool) for pool in pools), default=0)):
        chosen.extend(pool[position] for pool in pools if position < len(pool))
    return chosen[:count]


def status_label(status: Status, language: Language) -> str:
    en, zh = _STATUS[status]
    return zh if language == "zh" else en
