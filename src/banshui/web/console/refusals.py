"""The registry's refusals as the console says them: in Chinese, naming the field.

The registry and the API refuse in English, one sentence with a code and a
field; the console is Chinese. A refusal the console did not word itself is
looked up by its code and field here, and the API's words stay as they are.
"""

from __future__ import annotations

import re

from banshui.core.errors import BanshuiError

_CHINESE = re.compile(r"[\u4e00-\u9fff]")

# The fields as the console's forms label them.
FIELDS = {
    "id_number": "身份证号",
    "tax_id": "税号",
    "name": "名称",
    "password": "密码",
    "account": "账户",
    "number": "号码",
    "bound_phone": "真实手机号",
    "login_type": "登录类型",
    "provider_url": "服务商接口地址",
    "app_key": "appKey",
    "region": "地区",
    "tenant_id": "租户",
}

# Refusals with a sentence of their own.
SENTENCES = {
    ("conflict", "id_number"): (
        "身份证号：本租户已登记过这个身份证号的自然人，同一自然人只能登记一次。"
    ),
    ("conflict", "tax_id"): "税号：本租户已登记过这家企业。",
    ("conflict", "number"): (
        "号码：这个号码属于其他租户（在税局属于其自然人，或绑定给其企业）。"
    ),
    ("invalid", "id_number"): "身份证号不正确（18 位，含校验位）。",
}

# Any other refusal about a field, by its code.
BY_CODE = {
    "conflict": "{label}：与已登记的信息冲突，未作修改。",
    "invalid": "{label}：填写有误，请检查后重试。",
    "not_found": "{label}：找不到所填的内容。",
}
# And one about no field.
WITHOUT_FIELD = {
    "conflict": "与已登记的信息冲突，未作修改。",
    "not_found": "找不到这项内容：它不存在，或不在你的范围内。",
    "too_many_streams": "你打开的实时更新页面过多，请关闭一些页面后再试。",
}
UNWORDED = "无法完成这项操作，请检查填写的内容后重试。"
# A sub-number bound (绑定小号) for a 税号 of no enterprise of the person's tenant.
BOUND_FOR_ANOTHER_ENTERPRISE = (
    "这个小号绑定的企业（按税号）不在该自然人所在的租户下，不能添加给这个自然人："
    "请先在该租户新增这家企业，或请实施人员核对绑定。"
)


def in_chinese(error: BanshuiError) -> str:
    """The refusal's sentence for a console page; one in Chinese already is kept."""
    if _CHINESE.search(error.message):
        return error.message
    worded = SENTENCES.get((error.code, error.field or ""))
    if worded is not None:
        return worded
    label = FIELDS.get(error.field or "")
    pattern = BY_CODE.get(error.code)
    if label is not None and pattern is not None:
        return pattern.format(label=label)
    return WITHOUT_FIELD.get(error.code, UNWORDED)
