"""What the robot says back, in Chinese; an appSecret is never in it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from stdnum.cn import uscc as stdnum_uscc

from banshui.accounts.uscc import region_of
from banshui.chat.parsing import FIELDS, Verb, usage
from banshui.numbers.binding import NumberView
from banshui.numbers.phones import mask

# R3: the bureau sends at most this many codes per number and Asia/Shanghai day.
DAILY_SMS = 20
# Longer values are not echoed: a field that long is wrong anyway, and it may be
# an appSecret pasted into the wrong place.
MAX_ECHO = 20
_DIGITS = set("0123456789")
# GB 32100's alphabet for characters 9–18 (no I, O, S, V, Z).
_USCC_ALPHABET = set("0123456789ABCDEFGHJKLMNPQRTUWXY")
_FAILED = {Verb.BIND: "绑定失败", Verb.UNBIND: "解绑失败", Verb.QUERY: "查询失败"}


@dataclass(frozen=True, slots=True)
class Answer:
    text: str
    ok: bool
    changed: bool = False


class Refused(Exception):
    """A field is wrong; ``reason`` names it and says why, in one phrase."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def refusal(verb: Verb, reason: str) -> Answer:
    return Answer(text=f"{_FAILED[verb]}：{reason}", ok=False)


def help_text() -> str:
    lines = ["未知命令。可用命令："]
    lines += [usage(verb) for verb in Verb]
    return "\n".join(lines)


def wrong_count(verb: Verb, got: int) -> str:
    wanted = len(FIELDS[verb])
    return f"{verb.value}需要 {wanted} 项（{usage(verb)}），收到 {got} 项"


def named(label: str, value: str) -> str:
    """The field's name and, when it is short and printable, what was typed."""
    if not value:
        return label
    if len(value) > MAX_ECHO or not value.isprintable():
        return label
    return f"{label} {value}"


def empty(label: str) -> Refused:
    return Refused(f"{label}为空")


def tax_id_reason(value: str) -> str:
    """Why a value is no 统一社会信用代码, checked in the order validation uses."""
    compact = stdnum_uscc.compact(value)
    if len(compact) != 18:
        return f"应为 18 位，实为 {len(compact)} 位"
    if not set(compact[:8]) <= _DIGITS or not set(compact[8:]) <= _USCC_ALPHABET:
        return "含有统一社会信用代码不能使用的字符"
    if not stdnum_uscc.is_valid(compact):
        return "校验位错误"
    if region_of(compact) is None:
        return "第 3–8 位不是已知的行政区划代码"
    return "无效"


def bound(view: NumberView, changed: bool) -> Answer:
    summary = (
        f"小号 {view.number} → 客户 {view.customer} · "
        f"真实手机号 {_masked(view.bound_phone)} · 税号 {view.tax_id}"
    )
    lines = ["绑定小号成功", summary]
    if view.warning:
        lines.append(f"提醒：{view.warning}")
    return Answer(text="\n".join(lines), ok=True, changed=changed)


def unbound(previous: NumberView) -> Answer:
    whom = f"与客户 {previous.customer} " if previous.customer else ""
    text = f"解绑小号成功\n小号 {previous.number} 已{whom}解除绑定"
    return Answer(text=text, ok=True, changed=True)


def queried(view: NumberView, owner: str | None, spent: int) -> Answer:
    lines = [
        f"小号 {view.number}",
        f"客户：{view.customer or '未绑定'}",
        f"真实手机号：{_masked(view.bound_phone)}",
        f"税号：{view.tax_id or '无'}",
        f"服务到期：{_service_end(view.service_ends_on, view.warning)}",
        f"归属自然人：{owner or '未知'}",
        f"今日短信：{spent}/{DAILY_SMS}",
    ]
    return Answer(text="\n".join(lines), ok=True)


def _service_end(ends_on: date | None, warning: str | None) -> str:
    if ends_on is None:
        return "未设置"
    if warning:
        return f"{ends_on.isoformat()}（{warning}）"
    return ends_on.isoformat()


def _masked(phone: str | None) -> str:
    return mask(phone) if phone else "无"
