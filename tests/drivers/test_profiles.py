"""Region profiles are checked at start-up, and a wrong one fails against the
simulator naming its region and step, instead of the simulator bending to it."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from banshui.app import create_app
from banshui.core.settings import Settings
from banshui.demo.cast import S1, ZHANG_SAN, A
from banshui.drivers.base import BureauDriver, BureauError, Failure, Flow
from banshui.drivers.http import HttpDriver
from banshui.drivers.profile import SHIPPED, DriverKind, ProfileError, load_profiles
from banshui.drivers.regional import RegionalDriver
from banshui.simulator.regions import REGIONS, client_id

if TYPE_CHECKING:
    from conftest import Sandbox

SIMULATOR_TOML = (SHIPPED / "simulator.toml").read_text(encoding="utf-8")


def _folder_with(tmp_path: Path, text: str, name: str = "site.toml") -> Path:
    folder = tmp_path / "profiles"
    folder.mkdir(exist_ok=True)
    (folder / name).write_text(text, encoding="utf-8")
    return folder


def _one_region(region: str = "4403", **site: str) -> str:
    lines = ["[site]", 'base_url = "simulator"']
    lines += [f"{key} = {value}" for key, value in site.items()]
    lines += [
        f"[regions.{region}]",
        'name = "深圳"',
        f'client_id = "{client_id(region)}"',
    ]
    return "\n".join(lines) + "\n"


def test_the_shipped_profiles_describe_every_simulated_region_with_its_client_id() -> (
    None
):
    profiles = load_profiles(simulator_url="http://127.0.0.1:1/sim")

    assert profiles.regions() == sorted(REGIONS)
    for profile in profiles:
        assert profile.client_id == client_id(profile.region)
        assert profile.name == REGIONS[profile.region]
        assert profile.base_url == "http://127.0.0.1:1/sim"


def test_a_missing_field_is_named_with_its_file_and_region(tmp_path: Path) -> None:
    text = _one_region(steps='["password", "sms", "identity"]').replace(
        f'client_id = "{client_id("4403")}"\n', ""
    )

    with pytest.raises(ProfileError) as refused:
        load_profiles(_folder_with(tmp_path, text))

    assert str(refused.value) == (
        "driver profile site.toml, region 4403: client_id: Field required"
    )


def test_an_unknown_step_is_refused_by_name(tmp_path: Path) -> None:
    text = _one_region(steps='["password", "fingerprint", "identity"]')

    with pytest.raises(ProfileError) as refused:
        load_profiles(_folder_with(tmp_path, text))

    message = str(refused.value)
    assert message.startswith("driver profile site.toml, region 4403: steps.")
    assert "fingerprint" in message or "password" in message


def test_a_browser_profile_without_a_selector_its_steps_need_is_refused(
    tmp_path: Path,
) -> None:
    text = SIMULATOR_TOML.replace('send_code = "#send-code"\n', "")

    with pytest.raises(ProfileError) as refused:
        load_profiles(_folder_with(tmp_path, text))

    assert "browser.selectors.send_code is needed for the step 'sms'" in str(
        refused.value
    )
    assert re.match(r"driver profile site\.toml, region \d+: ", str(refused.value))


def test_the_browser_driver_needs_a_browser_table(tmp_path: Path) -> None:
    text = _one_region(steps='["password", "sms", "identity"]')
    folder = _folder_with(tmp_path, text)

    load_profiles(folder, default_driver="http")
    with pytest.raises(ProfileError) as refused:
        load_profiles(folder, default_driver="browser")

    assert "region 4403 (深圳): the browser driver needs a [site.browser]" in str(
        refused.value
    )


def test_two_files_may_not_describe_one_region(tmp_path: Path) -> None:
    text = _one_region(steps='["password", "sms", "identity"]')
    _folder_with(tmp_path, text, "a.toml")
    folder = _folder_with(tmp_path, text, "b.toml")

    with pytest.raises(ProfileError) as refused:
        load_profiles(folder)

    assert str(refused.value) == (
        "driver profile b.toml, region 4403 (深圳): already described by a.toml"
    )


def test_a_bad_profile_stops_start_up_naming_the_variable_file(tmp_path: Path) -> None:
    folder = _folder_with(tmp_path, "[site]\nbase_url = 1\n")
    settings = Settings(
        database_url=f"sqlite:///{tmp_path / 'b.db'}",
        var_dir=tmp_path,
        profiles_dir=folder,
    )

    with pytest.raises(ProfileError) as refused:
        create_app(settings)

    assert "driver profile site.toml: no [regions.<code>] table" in str(refused.value)


class _Recording:
    """A driver that only says which kind and address it was made for."""

    def __init__(self, kind: DriverKind, url: str) -> None:
        self.kind, self.url = kind, url

    async def start(self, region: str, *_: str) -> Flow:
        raise BureauError(Failure.UNAVAILABLE, f"{self.kind} {self.url} {region}")

    async def close(self) -> None:
        return None


async def test_each_region_goes_to_the_driver_its_profile_or_the_setting_names(
    tmp_path: Path,
) -> None:
    text = SIMULATOR_TOML + '\n[regions.9901]\nname = "x"\nclient_id = "x"\n'
    text = text.replace(
        '[regions.42]\nname = "湖北"\n',
        '[regions.42]\nname = "湖北"\ndriver = "browser"\n',
    )
    profiles = load_profiles(_folder_with(tmp_path, text), "http://sim")
    made: list[tuple[str, str]] = []

    def make(kind: DriverKind, url: str, _profiles: Any) -> BureauDriver:
        made.append((kind, url))
        return _Recording(kind, url)  # type: ignore[return-value]

    routed = RegionalDriver(profiles, "http", "http://sim", make)
    answers = []
    for region in ("4403", "42", "11", "42"):
        with pytest.raises(BureauError) as said:
            await routed.start(region, A.tax_id, S1, "x")
        answers.append(said.value.message)
    await routed.close()

    assert answers == [
        "http http://sim 4403",
        "browser http://sim 42",
        "http http://sim 11",
        "browser http://sim 42",
    ]
    assert made == [("http", "http://sim"), ("browser", "http://sim")]


# Against the simulator: a wrong profile fails there, by region and step.


@pytest.fixture
async def driver_with(sandbox: Sandbox, tmp_path: Path) -> AsyncIterator[Any]:
    made: list[HttpDriver] = []

    def make(text: str) -> HttpDriver:
        url = f"{sandbox.stack.url}/sim"
        profiles = load_profiles(_folder_with(tmp_path, text), url)
        driver = HttpDriver(url, solve_simulated_slider=True, profiles=profiles)
        made.append(driver)
        return driver

    yield make
    for driver in made:
        await driver.close()


async def test_a_profile_without_the_sms_step_fails_naming_region_and_step(
    sandbox: Sandbox, driver_with: Any
) -> None:
    driver = driver_with(SIMULATOR_TOML.replace('"slider", "sms", ', '"slider", '))

    with pytest.raises(BureauError) as refused:
        await driver.start(A.region, A.tax_id, S1, ZHANG_SAN.password)

    assert refused.value.failure is Failure.PROFILE
    assert refused.value.message == (
        "region 4403 (深圳): after the password step the bureau asked for the step "
        "'sms', which the profile site.toml does not list"
    )


async def test_a_profile_with_another_regions_client_id_is_refused_by_the_site(
    sandbox: Sandbox, driver_with: Any
) -> None:
    wrong = SIMULATOR_TOML.replace(
        'client_id = "sim-etax-4403"', 'client_id = "sim-etax-42"'
    )
    driver = driver_with(wrong)

    with pytest.raises(BureauError) as refused:
        await driver.start(A.region, A.tax_id, S1, ZHANG_SAN.password)

    assert (refused.value.failure, refused.value.code) == (Failure.PROFILE, 2102)
    assert refused.value.message.startswith(
        "region 4403 (深圳): the bureau refused the client id of profile site.toml"
    )
