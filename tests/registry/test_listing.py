"""The listing ERPs pull: who logs in for an enterprise, as whom (R8), and R9."""

from __future__ import annotations

from typing import TYPE_CHECKING

from banshui.accounts.models import Account

from . import flows
from .cast import MANY, WANG_WU, ZHAO_LIU, E, F, fresh_number
from .conftest import ON_MODULE_LOOP, Caller

if TYPE_CHECKING:
    from conftest import Stack

pytestmark = ON_MODULE_LOOP
PROVIDER_URL = "https://provider.example/api"
PROVIDER_KEY = "K7Q2M9X4T1BZ"
PROVIDER_SECRET = "Y4N8E2R6W1Q9T3U7I5O0P2A4S6D8F1G3H5J7K9L0"


async def test_the_listing_names_the_numbers_owner_as_the_issuer(
    caller: Caller,
) -> None:
    await flows.enterprise(caller.http, E)
    wang = await flows.person(caller.http, WANG_WU)
    number = fresh_number()
    await flows.give(caller.http, wang["id"], number)

    made = await flows.account(
        caller.http, E.tax_id, number, identity_code="09", business="issue"
    )
    listed = await flows.listing(caller.http, E.tax_id)

    assert listed == [made]
    entry = listed[0]
    assert entry["issuer"] == WANG_WU.name
    assert entry["person_id"] == wang["id"]
    assert entry["number"] == number
    assert entry["login_type"] == "sub_number"
    assert (entry["identity_code"], entry["identity"]) == ("09", "开票员")
    assert entry["default_business"] == "issue"
    assert entry["default_business_name"] == "开票管理"
    assert entry["warnings"] == []


async def test_no_password_appears_in_any_answer_of_the_registry(
    caller: Caller,
) -> None:
    await flows.enterprise(caller.http, E)
    wang = await flows.person(caller.http, WANG_WU)
    number = fresh_number()
    answers = [wang, await flows.give(caller.http, wang["id"], number)]
    answers.append(await flows.account(caller.http, E.tax_id, number))

    for path in (
        "/api/v1/persons",
        f"/api/v1/persons/{wang['id']}",
        f"/api/v1/enterprises/{E.tax_id}/accounts",
        f"/api/v1/accounts/{answers[-1]['id']}",
    ):
        answers.append((await caller.http.get(path)).json())

    text = repr(answers)
    assert WANG_WU.password not in text
    assert WANG_WU.id_number not in text
    assert "password" not in text


async def test_an_account_serving_six_enterprises_is_warned_about_but_allowed(
    caller: Caller,
) -> None:
    wang = await flows.person(caller.http, WANG_WU)
    number = fresh_number()
    await flows.give(caller.http, wang["id"], number)
    for company in MANY[:5]:
        await flows.enterprise(caller.http, company)
        await flows.account(caller.http, company.tax_id, number)
    fifth = (await flows.listing(caller.http, MANY[4].tax_id))[0]
    assert fifth["warnings"] == []

    await flows.enterprise(caller.http, MANY[5])
    sixth = await flows.account(caller.http, MANY[5].tax_id, number)

    assert sixth["enterprises_served"] == 6
    assert [w["code"] for w in sixth["warnings"]] == ["serves_more_than_five"]
    first = (await flows.listing(caller.http, MANY[0].tax_id))[0]
    assert [w["code"] for w in first["warnings"]] == ["serves_more_than_five"]


async def test_an_account_that_issues_and_receives_is_warned_about(
    caller: Caller,
) -> None:
    await flows.enterprise(caller.http, E)
    await flows.enterprise(caller.http, F)
    wang = await flows.person(caller.http, WANG_WU)
    number = fresh_number()
    await flows.give(caller.http, wang["id"], number)
    await flows.account(caller.http, E.tax_id, number, business="receive")

    both = await flows.account(caller.http, F.tax_id, number, business="issue")

    assert [w["code"] for w in both["warnings"]] == ["issue_and_receive_shared"]
    (receiving,) = await flows.listing(caller.http, E.tax_id)
    assert [w["code"] for w in receiving["warnings"]] == ["issue_and_receive_shared"]


async def test_a_second_enterprise_joins_the_same_account_of_that_number(
    caller: Caller,
) -> None:
    await flows.enterprise(caller.http, E)
    await flows.enterprise(caller.http, F)
    wang = await flows.person(caller.http, WANG_WU)
    number = fresh_number()
    await flows.give(caller.http, wang["id"], number)

    first = await flows.account(caller.http, E.tax_id, number)
    second = await flows.account(caller.http, F.tax_id, number)
    shown = (await caller.http.get(f"/api/v1/accounts/{first['id']}")).json()

    assert second["id"] == first["id"]
    assert [e["tax_id"] for e in shown["enterprises"]] == sorted([E.tax_id, F.tax_id])
    assert shown["issuer"] == WANG_WU.name


async def test_making_an_account_the_default_takes_the_default_from_the_other(
    caller: Caller,
) -> None:
    await flows.enterprise(caller.http, E)
    wang = await flows.person(caller.http, WANG_WU)
    zhao = await flows.person(caller.http, ZHAO_LIU)
    wangs, zhaos = fresh_number(), fresh_number()
    await flows.give(caller.http, wang["id"], wangs)
    await flows.give(caller.http, zhao["id"], zhaos)
    first = await flows.account(caller.http, E.tax_id, wangs, is_default=True)
    second = await flows.account(caller.http, E.tax_id, zhaos)

    changed = await caller.http.patch(
        f"/api/v1/enterprises/{E.tax_id}/accounts/{second['id']}",
        json={"is_default": True},
    )

    assert changed.status_code == 200, changed.text
    defaults = {
        e["id"]: e["is_default"] for e in await flows.listing(caller.http, E.tax_id)
    }
    assert defaults == {first["id"]: False, second["id"]: True}


async def test_the_default_business_is_changed_per_enterprise(caller: Caller) -> None:
    await flows.enterprise(caller.http, E)
    wang = await flows.person(caller.http, WANG_WU)
    number = fresh_number()
    await flows.give(caller.http, wang["id"], number)
    made = await flows.account(caller.http, E.tax_id, number, business="receive")

    changed = await caller.http.patch(
        f"/api/v1/enterprises/{E.tax_id}/accounts/{made['id']}",
        json={"default_business": "issue"},
    )

    assert changed.status_code == 200, changed.text
    assert changed.json()["default_business"] == "issue"
    assert changed.json()["default_business_name"] == "开票管理"


async def test_an_account_that_stops_serving_leaves_the_listing_only(
    caller: Caller, server: Stack
) -> None:
    await flows.enterprise(caller.http, E)
    await flows.enterprise(caller.http, F)
    wang = await flows.person(caller.http, WANG_WU)
    number = fresh_number()
    await flows.give(caller.http, wang["id"], number)
    made = await flows.account(caller.http, E.tax_id, number)
    await flows.account(caller.http, F.tax_id, number)

    removed = await caller.http.delete(
        f"/api/v1/enterprises/{E.tax_id}/accounts/{made['id']}"
    )

    assert removed.status_code == 204
    assert await flows.listing(caller.http, E.tax_id) == []
    assert [e["id"] for e in await flows.listing(caller.http, F.tax_id)] == [made["id"]]
    again = await caller.http.delete(
        f"/api/v1/enterprises/{E.tax_id}/accounts/{made['id']}"
    )
    assert again.status_code == 404


async def test_a_number_hosted_at_another_provider_keeps_its_secret_sealed(
    caller: Caller, server: Stack
) -> None:
    await flows.enterprise(caller.http, E)
    wang = await flows.person(caller.http, WANG_WU)
    number = fresh_number()
    await flows.give(caller.http, wang["id"], number)

    made = await flows.created(
        caller.http,
        f"/api/v1/enterprises/{E.tax_id}/accounts",
        {
            "login_type": "sub_number",
            "account": number,
            "identity_code": "03",
            "default_business": "receive",
            "provider_url": PROVIDER_URL,
            "app_key": PROVIDER_KEY,
            "app_secret": PROVIDER_SECRET,
        },
    )
    shown = (await caller.http.get(f"/api/v1/accounts/{made['id']}")).json()

    assert made["provider_url"] == shown["provider_url"] == PROVIDER_URL
    assert PROVIDER_SECRET not in repr([made, shown])
    async with server.runtime.db.session() as session:
        stored = await session.get(Account, made["id"])
    assert stored is not None and stored.provider_app_secret_sealed is not None
    assert PROVIDER_SECRET not in stored.provider_app_secret_sealed
