"""统一社会信用代码 (USCC, GB 32100) and the bureau region it implies (R13)."""

from __future__ import annotations

from stdnum.cn import uscc as stdnum_uscc
from stdnum.exceptions import ValidationError

from banshui.core.errors import InvalidInput

# Cities with their own bureau (计划单列市): their region is the city, not the province.
SEPARATE_CITIES = {
    "2102": "大连",
    "3702": "青岛",
    "3302": "宁波",
    "3502": "厦门",
    "4403": "深圳",
}

PROVINCES = {
    "11": "北京", "12": "天津", "13": "河北", "14": "山西", "15": "内蒙古",
    "21": "辽宁", "22": "吉林", "23": "黑龙江", "31": "上海", "32": "江苏",
    "33": "浙江", "34": "安徽", "35": "福建", "36": "江西", "37": "山东",
    "41": "河南", "42": "湖北", "43": "湖南", "44": "广东", "45": "广西",
    "46": "海南", "50": "重庆", "51": "四川", "52": "贵州", "53": "云南",
    "54": "西藏", "61": "陕西", "62": "甘肃", "63": "青海", "64": "宁夏",
    "65": "新疆",
}  # fmt: skip


class InvalidTaxId(InvalidInput):
    """A refused USCC; ``problem`` names the check it failed, for other wordings:
    ``length``, ``format``, ``checksum`` or ``region``."""

    def __init__(self, message: str, *, field: str, problem: str) -> None:
        super().__init__(message, field=field)
        self.problem = problem


def validate_tax_id(value: str, field: str = "tax_id") -> str:
    """The USCC in its compact form, or an error that names the field."""
    try:
        compact: str = stdnum_uscc.validate(value)
    except ValidationError as error:
        problem = _PROBLEMS.get(type(error).__name__, "format")
        raise InvalidTaxId(
            f"{value!r} is not a valid 统一社会信用代码: {_REASONS[problem]}",
            field=field,
            problem=problem,
        ) from None

    if region_of(compact) is None:
        raise InvalidTaxId(
            f"{value!r} names no known province in characters 3–8",
            field=field,
            problem="region",
        )
    return compact


def region_of(tax_id: str) -> str | None:
    """The provincial-level bureau: a separate city's 4 digits, else 2 digits."""
    division = tax_id[2:8]
    if division[:4] in SEPARATE_CITIES:
        return division[:4]
    if division[:2] in PROVINCES:
        return division[:2]
    return None


def region_name(region: str) -> str:
    return SEPARATE_CITIES.get(region) or PROVINCES.get(region) or region


def validate_region(value: str, field: str = "region") -> str:
    if value not in SEPARATE_CITIES and value not in PROVINCES:
        raise InvalidInput(
            f"{value!r} is not a region code (two province digits or a separate city)",
            field=field,
        )
    return value


_PROBLEMS = {
    "InvalidLength": "length",
    "InvalidFormat": "format",
    "InvalidChecksum": "checksum",
}
_REASONS = {
    "length": "it must have 18 characters",
    "format": "it has characters a USCC cannot hold",
    "checksum": "its check character is wrong",
}
