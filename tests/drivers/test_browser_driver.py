"""The browser driver walks the simulator's pages in Chromium (R5, R7, R12, R14);
every failure leaves the page's screenshot and HTML behind."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from banshui.demo.cast import LI_SI, S1, S3, ZHANG_SAN, A, B, D
from banshui.drivers.base import BureauError, FaceCheck, Failure, SessionHandle, Step
from banshui.drivers.browser import BrowserDriver
from banshui.drivers.profile import SHIPPED, load_profiles

if TYPE_CHECKING:
    from conftest import Sandbox

SIMULATOR_TOML = (SHIPPED / "simulator.toml").read_text(encoding="utf-8")


@pytest.fixture
async def browser_with(sandbox: Sandbox, tmp_path: Path) -> AsyncIterator[Any]:
    made: list[BrowserDriver] = []

    def make(text: str = SIMULATOR_TOML, solve_slider: bool = True) -> BrowserDriver:
        folder = tmp_path / f"profiles-{len(made)}"
        folder.mkdir()
        (folder / "simulator.toml").write_text(text, encoding="utf-8")
        url = f"{sandbox.stack.url}/sim"
        driver = BrowserDriver(
            url,
            load_profiles(folder, url, "browser"),
            failures_dir=tmp_path / "driver-failures",
            solve_simulated_slider=solve_slider,
        )
        made.append(driver)
        return driver

    yield make
    for driver in made:
        await driver.close()


async def _admin(sandbox: Sandbox, method: str, path: str, body: Any = None) -> Any:
    response = await sandbox.stack.sim.request(method, path, json=body)
    response.raise_for_status()
    return response.json()


async def _latest_code(sandbox: Sandbox, phone: str) -> str:
    outbox = await _admin(sandbox, "GET", f"/admin/outbox?phone={phone}")
    found = re.search(r"(\d{6})", outbox["sms"][-1]["text"])
    assert found is not None
    return found.group(1)


def _saved(tmp_path: Path) -> list[str]:
    folder = tmp_path / "driver-failures"
    return sorted(path.suffix for path in folder.iterdir()) if folder.exists() else []


async def test_a_login_on_the_pages_gives_a_session_that_probes_and_switches(
    sandbox: Sandbox, browser_with: Any
) -> None:
    driver = browser_with()

    flow = await driver.start(A.region, A.tax_id, S1, ZHANG_SAN.password)
    await driver.send_code(flow)
    listed = await driver.submit_code(flow, await _latest_code(sandbox, S1))
    session = await driver.choose_identity(listed, A.tax_id, "03", "receive")
    assert isinstance(session, SessionHandle)
    probe = await driver.probe(session)
    switched = await driver.switch(session, B.tax_id)

    assert flow.step is Step.CODE
    assert (A.tax_id, "03") in [(i.tax_id, i.identity_code) for i in listed.identities]
    assert (session.tax_id, session.region) == (A.tax_id, A.region)
    assert session.cookies["SIMSESSION"]
    assert (probe.alive, probe.tax_id) == (True, A.tax_id)
    assert switched.tax_id == B.tax_id


async def test_the_simulated_slider_is_dragged_and_a_person_gets_it_otherwise(
    sandbox: Sandbox, browser_with: Any
) -> None:
    await _admin(sandbox, "PUT", f"/admin/regions/{A.region}", {"login": "slider_sms"})

    passed = await browser_with().start(A.region, A.tax_id, S1, ZHANG_SAN.password)
    person = browser_with(solve_slider=False)
    left = await person.start(A.region, A.tax_id, S1, ZHANG_SAN.password)
    with pytest.raises(BureauError) as refused:
        await person.send_code(left)

    assert passed.step is Step.CODE
    assert (left.step, bool(left.slider_id)) == (Step.SLIDER, True)
    assert refused.value.failure is Failure.SLIDER_REQUIRED


async def test_a_wrong_selector_fails_naming_region_step_and_selector_saving_the_page(
    sandbox: Sandbox, browser_with: Any, tmp_path: Path
) -> None:
    driver = browser_with(
        SIMULATOR_TOML.replace('code = "#code"', 'code = "#code-box"')
    )
    flow = await driver.start(A.region, A.tax_id, S1, ZHANG_SAN.password)
    await driver.send_code(flow)

    with pytest.raises(BureauError) as refused:
        await driver.submit_code(flow, await _latest_code(sandbox, S1))

    assert refused.value.failure is Failure.PROFILE
    assert not refused.value.transient
    message = refused.value.message
    assert message.startswith("region 4403 (深圳): the sms step found nothing for")
    assert "the selector code (#code-box) of profile simulator.toml" in message
    assert _saved(tmp_path) == [".html", ".png"]


async def test_a_refusal_on_the_page_is_read_by_its_code_and_the_page_saved(
    sandbox: Sandbox, browser_with: Any, tmp_path: Path
) -> None:
    with pytest.raises(BureauError) as refused:
        await browser_with().start(A.region, A.tax_id, S1, "not-his-password")

    assert (refused.value.failure, refused.value.code) == (
        Failure.BAD_CREDENTIALS,
        2035,
    )
    html = next((tmp_path / "driver-failures").glob("*-4403-password.html"))
    assert "账号或密码错误" in html.read_text(encoding="utf-8")


async def test_issuing_with_a_face_check_waits_for_it_on_the_page(
    sandbox: Sandbox, browser_with: Any
) -> None:
    li = await _admin(sandbox, "GET", f"/admin/persons/{LI_SI.id_number}")
    body = {
        "person_id": li["person_id"],
        "tax_id": D.tax_id,
        "identity_code": "09",
        "confirmed": True,
        "face_check_on_issue": True,
    }
    await _admin(sandbox, "POST", "/admin/relations", body)
    driver = browser_with()
    flow = await driver.start(D.region, D.tax_id, S3, LI_SI.password)
    await driver.send_code(flow)
    listed = await driver.submit_code(flow, await _latest_code(sandbox, S3))

    check = await driver.choose_identity(listed, D.tax_id, "09", "issue")
    assert isinstance(check, FaceCheck)
    before = await driver.face_check_passed(check)
    face_check_id = check.qr_url.rsplit("/", 1)[-1]
    await _admin(sandbox, "POST", f"/admin/face-checks/{face_check_id}/approve")
    after = await driver.face_check_passed(check)
    session = await driver.session_after_face_check(check)

    assert (before, after) == (False, True)
    assert session.tax_id == D.tax_id
