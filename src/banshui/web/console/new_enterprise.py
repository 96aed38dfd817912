"""新增企业: an enterprise by its 统一社会信用代码, its name, and its tenant.

The code is checked by the registry's own rules (GB 32100 and R13: characters
3–8 name the region); the refusal is said here in Chinese, under the field.
"""

from __future__ import annotations

from dataclasses import dataclass

from starlette.datastructures import FormData

from banshui.accounts.models import Enterprise
from banshui.accounts.service import Registry
from banshui.accounts.uscc import (
    PROVINCES,
    SEPARATE_CITIES,
    InvalidTaxId,
    validate_tax_id,
)
from banshui.core.errors import Conflict, InvalidInput
from banshui.runtime import Runtime
from banshui.web.console import forms

TAX_ID = "统一社会信用代码"
PROBLEMS = {
    "length": TAX_ID + "应为 18 位，现在是 {count} 位。",
    "format": TAX_ID + "只能由数字和大写字母组成（不含 I、O、S、V、Z）。",
    "checksum": TAX_ID + "的校验位（第 18 位）不对，请核对是否抄错。",
    "region": TAX_ID + "第 3–8 位不是已知的登记管理机关行政区划码。",
}
TAKEN = "这家企业已在该租户登记。"
NAME_LENGTH = 200
# Where an override may point: a province, or a city with its own bureau.
REGIONS = {**PROVINCES, **SEPARATE_CITIES}


@dataclass(frozen=True, slots=True)
class NewEnterprise:
    tax_id: str
    name: str
    region: str | None  # None: the one the code names (R13)


def read_new_enterprise(form: FormData) -> NewEnterprise:
    """The form's fields, each checked; the first wrong one named in Chinese."""
    typed = forms.required(form, "tax_id", TAX_ID, 40)
    try:
        tax_id = validate_tax_id(typed)
    except InvalidTaxId as refused:
        count = len(typed.replace(" ", "").replace("-", ""))
        message = PROBLEMS[refused.problem].format(count=count)
        raise InvalidInput(message, field="tax_id") from None

    name = forms.required(form, "name", "企业名称", NAME_LENGTH)
    region = forms.text(form, "region", 4) or None
    if region is not None and region not in REGIONS:
        raise InvalidInput("请选择税局所在地区。", field="region")
    return NewEnterprise(tax_id, name, region)


async def add_enterprise(
    runtime: Runtime, tenant_id: int, new: NewEnterprise, actor: str
) -> Enterprise:
    registry = Registry(runtime.db, runtime.vault, runtime.clock)
    try:
        return await registry.add_enterprise(
            tenant_id, new.tax_id, new.name, new.region, actor=actor
        )
    except Conflict:
        raise Conflict(TAKEN, field="tax_id") from None
