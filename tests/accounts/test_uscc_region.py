"""R13: the bureau region follows from the USCC; bad tax ids and phones are refused."""

from __future__ import annotations

import pytest

from banshui.accounts.models import Enterprise, Person
from banshui.accounts.service import Registry
from banshui.core.errors import InvalidInput
from banshui.demo.cast import ZHANG_SAN, A, C, Company
from banshui.numbers.models import Number
from conftest import Stack

from .conftest import ON_MODULE_LOOP
from .rows import count

pytestmark = ON_MODULE_LOOP

_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"


def uscc(division: str, serial: str = "MA5F00001") -> str:
    """A USCC of an enterprise (91) registered by ``division``, check char and all.

    GB 32100: character i (from 0) weighs 3**i mod 31; the check character makes
    the weighted sum a multiple of 31.
    """
    body = "91" + division + serial
    total = sum(_ALPHABET.index(char) * pow(3, i, 31) for i, char in enumerate(body))
    return body + _ALPHABET[-total % 31]


@pytest.mark.parametrize(
    ("division", "region"),
    [
        ("110000", "11"),  # 北京
        ("420100", "42"),  # 武汉 is in 湖北
        ("440100", "44"),  # 广州 is in 广东
        ("440300", "4403"),  # 深圳
        ("440305", "4403"),  # 深圳 南山区
        ("210100", "21"),  # 沈阳 is in 辽宁
        ("210200", "2102"),  # 大连
        ("210213", "2102"),  # 大连 金州区
        ("370100", "37"),  # 济南 is in 山东
        ("370200", "3702"),  # 青岛
        ("330100", "33"),  # 杭州 is in 浙江
        ("330200", "3302"),  # 宁波
        ("350100", "35"),  # 福州 is in 福建
        ("350203", "3502"),  # 厦门 思明区
        ("310115", "31"),  # 上海 浦东新区
    ],
)
async def test_the_region_is_the_province_or_a_city_with_its_own_bureau(
    registry: Registry, tenant_id: int, division: str, region: str
) -> None:
    enterprise = await registry.add_enterprise(tenant_id, uscc(division), "示例公司")

    assert enterprise.region == region
    assert enterprise.region_overridden is False


@pytest.mark.parametrize("company", [A, C], ids=["A-深圳", "C-湖北"])
async def test_the_casts_tax_ids_give_the_regions_of_the_demo(
    registry: Registry, tenant_id: int, company: Company
) -> None:
    assert uscc(company.tax_id[2:8], company.tax_id[8:17]) == company.tax_id

    enterprise = await registry.add_enterprise(tenant_id, company.tax_id, company.name)

    assert enterprise.region == company.region


async def test_the_region_can_be_overridden_for_one_enterprise(
    server: Stack, registry: Registry, tenant_id: int
) -> None:
    added = await registry.add_enterprise(
        tenant_id, uscc("440300"), "深圳市示例公司", region="42"
    )

    async with server.runtime.db.session() as session:
        stored = await session.get(Enterprise, added.id)
    assert stored is not None
    assert (stored.region, stored.region_overridden) == ("42", True)


async def test_an_override_that_names_no_region_is_refused_by_field(
    server: Stack, registry: Registry, tenant_id: int
) -> None:
    before = await count(server.runtime, Enterprise)

    with pytest.raises(InvalidInput) as refused:
        await registry.add_enterprise(tenant_id, uscc("440300"), "示例", region="4401")

    assert refused.value.field == "region"
    assert await count(server.runtime, Enterprise) == before


@pytest.mark.parametrize(
    "tax_id",
    [
        "91440300MA5FA0010X",  # the cast's A with a wrong check character
        "918888888888888888",  # the guide's placeholder
        "91440300MA5FA0010",  # 17 characters
        "91440300MA5FA0010MM",  # 19 characters
        "914403OOMA5FA0010M",  # letters in the division code
        "91440300MA5FA0O10M",  # O is not in the alphabet
        uscc("990000"),  # a right check character, but no province 99
        "",
    ],
)
async def test_an_invalid_uscc_is_refused_naming_tax_id_and_nothing_is_written(
    server: Stack, registry: Registry, tenant_id: int, tax_id: str
) -> None:
    before = await count(server.runtime, Enterprise)

    with pytest.raises(InvalidInput) as refused:
        await registry.add_enterprise(tenant_id, tax_id, "示例公司")

    assert refused.value.field == "tax_id"
    assert "\n" not in refused.value.message
    assert await count(server.runtime, Enterprise) == before


async def test_a_uscc_with_spaces_and_lower_case_is_stored_compact(
    registry: Registry, tenant_id: int
) -> None:
    enterprise = await registry.add_enterprise(
        tenant_id, " 9144 0300 ma5f a001 0m ", "深圳市示例甲科技有限公司"
    )

    assert enterprise.tax_id == "91440300MA5FA0010M"


@pytest.mark.parametrize(
    "typed",
    [
        "13800138000",
        " 13800138000 ",
        "+8613800138000",
        "+86 138 0013 8000",
        "+86-138-0013-8000",
    ],
)
async def test_a_mainland_mobile_is_accepted_as_11_digits_or_with_plus_86(
    registry: Registry, tenant_id: int, typed: str
) -> None:
    zhang = await _zhang(registry, tenant_id)

    number = await registry.give_number(zhang.id, "19912340001", bound_phone=typed)

    assert number.bound_phone == "13800138000"


async def test_a_sub_number_on_a_199_prefix_is_stored_as_11_digits(
    registry: Registry, tenant_id: int
) -> None:
    zhang = await _zhang(registry, tenant_id)

    number = await registry.give_number(zhang.id, "+86 199 1234 0002")

    assert number.msisdn == "19912340002"


@pytest.mark.parametrize(
    "typed",
    [
        "01012345678",  # 北京 landline
        "+86 10 1234 5678",
        "075512345678",  # 深圳 landline
        "+86 755 1234 5678",
        "1380013800",  # 10 digits
        "138001380001",  # 12 digits
        "+1 415 555 2671",  # not mainland
        "+852 5123 4567",  # 香港
        "12366",  # the bureau's service number
        "abc",
        "",
    ],
)
async def test_landlines_and_junk_are_refused_naming_the_field_and_nothing_is_written(
    server: Stack, registry: Registry, tenant_id: int, typed: str
) -> None:
    zhang = await _zhang(registry, tenant_id)
    before = await count(server.runtime, Number)

    with pytest.raises(InvalidInput) as as_number:
        await registry.give_number(zhang.id, typed)
    with pytest.raises(InvalidInput) as as_bound_phone:
        await registry.give_number(zhang.id, "19912349999", bound_phone=typed or " ")

    assert as_number.value.field == "number"
    assert as_bound_phone.value.field == "bound_phone"
    assert await count(server.runtime, Number) == before


async def _zhang(registry: Registry, tenant_id: int) -> Person:
    return await registry.add_person(
        tenant_id, ZHANG_SAN.name, ZHANG_SAN.id_number, ZHANG_SAN.password
    )
