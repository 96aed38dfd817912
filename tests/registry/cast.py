"""The registry tests' own cast: 王五 and 赵六 of 示例集团's new companies.

Fictitious, with valid check characters; none of it is the demo cast's, so the
simulator can hold both. Numbers are global at the bureau (R1), so every test
takes fresh ones.
"""

from __future__ import annotations

import itertools

from stdnum.cn import uscc

from banshui.demo.cast import Company, Member


def _tax_id(body: str) -> str:
    return body + str(uscc.calc_check_digit(body))


E = Company("E", _tax_id("91440300MA5FG0060"), "深圳市示例己网络有限公司", "4403")
F = Company("F", _tax_id("91420100MA4KJ0080"), "武汉示例庚物流有限公司", "42")
# Six more 深圳 companies, for an account serving more than five (R9).
MANY = tuple(
    Company(
        f"G{serial}",
        _tax_id(f"91440300MA5FK{serial:03d}0"),
        f"深圳市示例第{serial}号有限公司",
        "4403",
    )
    for serial in range(1, 7)
)

WANG_WU = Member("王五", "440305198808081234", "Demo-wangwu-2026", "13700137000")
ZHAO_LIU = Member("赵六", "420106199202145674", "Demo-zhaoliu-2026", "13600136000")

_NUMBERS = (f"1991235{serial:04d}" for serial in itertools.count(1))


def fresh_number() -> str:
    """A sub-number no test has used in this process."""
    return next(_NUMBERS)
