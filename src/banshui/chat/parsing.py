"""Reading a chat command: ``绑定小号#税号#appkey#appsecret#真实手机号#小号`` and kin.

Pure text work, no storage: it never raises, whatever the text.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from enum import StrEnum


class Verb(StrEnum):
    BIND = "绑定小号"
    UNBIND = "解绑小号"
    QUERY = "查询小号"


# The fields after each command, by the names the field guide gives them.
FIELDS: dict[Verb, tuple[str, ...]] = {
    Verb.BIND: ("税号", "appkey", "appsecret", "真实手机号", "小号"),
    Verb.UNBIND: ("小号",),
    Verb.QUERY: ("小号",),
}

# The guide's ASCII '#', the full-width '＃' its readers type, and the small '﹟'.
_SEPARATOR = re.compile("[#＃﹟]")
# Chat apps insert these when a message is pasted or an @-mention is made.
_INVISIBLE = re.compile("[\u200b\u200c\u200d\u2060\ufeff]")
_VERBS = "|".join(verb.value for verb in Verb)
# '@对话机器人 绑定小号…', or the mention glued to the command without a space.
_MENTION = re.compile(f"[@＠](?:\\S*?(?={_VERBS})|\\S*\\s+)")


@dataclass(frozen=True, slots=True)
class Command:
    verb: Verb
    fields: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class WrongCount:
    verb: Verb
    got: int


@dataclass(frozen=True, slots=True)
class Unknown:
    head: str


Parsed = Command | WrongCount | Unknown


def parse(text: str) -> Parsed:
    """The command, its fields stripped, or why it is not one."""
    head, *fields = _SEPARATOR.split(_without_mentions(text))
    head = head.strip()
    # NFKC: full-width digits and letters typed with a Chinese IME become ASCII.
    stripped = [unicodedata.normalize("NFKC", field).strip() for field in fields]
    # A trailing '#' leaves an empty last field that nobody meant to send.
    while stripped and not stripped[-1]:
        stripped.pop()

    verb = _verb(head)
    if verb is None:
        return Unknown(head=head)
    if len(stripped) != len(FIELDS[verb]):
        return WrongCount(verb=verb, got=len(stripped))
    return Command(verb=verb, fields=tuple(stripped))


def usage(verb: Verb) -> str:
    return "#".join((verb.value, *FIELDS[verb]))


def _without_mentions(text: str) -> str:
    text = _INVISIBLE.sub("", text).strip()
    while (mention := _MENTION.match(text)) is not None:
        text = text[mention.end() :].lstrip()
    return text


def _verb(head: str) -> Verb | None:
    for verb in Verb:
        if head == verb.value:
            return verb
    return None
