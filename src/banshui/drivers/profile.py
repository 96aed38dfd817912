"""Region profiles: what a driver needs to know of one region's login site.

A profile file (TOML) describes one site: a ``[site]`` table that its regions
share, and a ``[regions.<code>]`` table per region that may override any of it.
The shipped files (``drivers/profiles/``) describe the simulator's regions as a
target; ``BANSHUI_PROFILES_DIR`` replaces them with an operator's own. Every file
is checked at start-up, and a mistake is reported with its file, region and field.
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from banshui.core.settings import SettingsError

SHIPPED = Path(__file__).with_name("profiles")
# The base URL that stands for "the simulator banshui is pointed at".
SIMULATOR = "simulator"

DriverKind = Literal["http", "browser"]
StepName = Literal["password", "slider", "sms", "identity", "face_check"]

# What the browser driver must find on the page for each step a region has.
STEP_SELECTORS: dict[str, tuple[str, ...]] = {
    "password": ("tax_id", "account", "password", "login", "error"),
    "slider": ("slider", "slider_handle"),
    "sms": ("send_code", "code", "submit_code"),
    "identity": (
        "identities",
        "identity_row",
        "identity_tax_id",
        "identity_name",
        "identity_code",
        "identity_unconfirmed",
        "identity_choice",
        "choose_identity",
        "session",
        "current_tax_id",
        "current_identity_code",
        "current_enterprise",
        "switch_to",
    ),
    "face_check": ("face_check", "face_check_approved", "face_check_done", "qr_url"),
}


class ProfileError(SettingsError):
    """A profile that cannot be used; the message names its file, region and field."""


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Selectors(Strict):
    """CSS selectors of the login pages; ``{tax_id}`` and ``{identity_code}``
    are filled in where a selector names one row or button."""

    tax_id: str | None = None
    account: str | None = None
    password: str | None = None
    login: str | None = None
    error: str | None = None
    slider: str | None = None
    slider_handle: str | None = None
    send_code: str | None = None
    code: str | None = None
    submit_code: str | None = None
    identities: str | None = None
    identity_row: str | None = None
    identity_tax_id: str | None = None
    identity_name: str | None = None
    identity_code: str | None = None
    identity_unconfirmed: str | None = None
    identity_choice: str | None = None
    business: str | None = None
    choose_identity: str | None = None
    face_check: str | None = None
    face_check_approved: str | None = None
    face_check_done: str | None = None
    qr_url: str | None = None
    session: str | None = None
    current_tax_id: str | None = None
    current_identity_code: str | None = None
    current_enterprise: str | None = None
    switch_to: str | None = None

    def get(self, name: str) -> str:
        value = getattr(self, name)
        assert isinstance(value, str), name
        return value


class BrowserSite(Strict):
    login_path: str = Field(default="/login", pattern=r"^/")
    session_path: str = Field(default="/etax", pattern=r"^/")
    timeout_seconds: float = Field(default=10.0, gt=0, le=120)
    selectors: Selectors = Selectors()


class RegionProfile(Strict):
    """One region's site as the drivers meet it."""

    file: str
    region: str = Field(pattern=r"^\d{2}(\d{2})?$")
    name: str = Field(min_length=1, max_length=32)
    base_url: str = Field(pattern=r"^(https?://\S+|simulator)$")
    client_id: str = Field(min_length=1, max_length=64)
    steps: frozenset[StepName]
    driver: DriverKind | None = None
    # The simulator publishes its slider's answer; a real site's goes to a person.
    simulated_slider: bool = False
    browser: BrowserSite | None = None

    @model_validator(mode="after")
    def _complete(self) -> RegionProfile:
        for needed in ("password", "identity"):
            if needed not in self.steps:
                raise ValueError(f"steps must include {needed!r}")

        if self.browser is not None:
            for step in sorted(self.steps):
                for name in STEP_SELECTORS[step]:
                    if getattr(self.browser.selectors, name) is None:
                        raise ValueError(
                            f"browser.selectors.{name} is needed for the step {step!r}"
                        )
        return self

    @property
    def label(self) -> str:
        return f"region {self.region} ({self.name})"

    def has(self, step: str) -> bool:
        return step in self.steps


class Profiles:
    """Every region's profile, by region code."""

    def __init__(self, profiles: Iterable[RegionProfile]) -> None:
        self._by_region = {profile.region: profile for profile in profiles}

    def get(self, region: str) -> RegionProfile | None:
        return self._by_region.get(region)

    def regions(self) -> list[str]:
        return sorted(self._by_region)

    def __iter__(self) -> Any:
        return iter(self._by_region.values())


def load_profiles(
    folder: Path | None = None,
    simulator_url: str | None = None,
    default_driver: DriverKind = "http",
) -> Profiles:
    """Every profile in the folder (the shipped ones by default), checked."""
    where = folder or SHIPPED
    files = sorted(where.glob("*.toml")) if where.is_dir() else []
    if not files:
        raise ProfileError(f"driver profiles: no *.toml file in {where}")

    found: dict[str, RegionProfile] = {}
    for path in files:
        for profile in _read(path, simulator_url):
            other = found.get(profile.region)
            if other is not None:
                raise ProfileError(
                    f"driver profile {path.name}, {profile.label}: already "
                    f"described by {other.file}"
                )
            _drivable(profile, default_driver)
            found[profile.region] = profile
    return Profiles(found.values())


def _read(path: Path, simulator_url: str | None) -> list[RegionProfile]:
    try:
        document = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as error:
        raise ProfileError(
            f"driver profile {path.name}: cannot be read: {error}"
        ) from None

    unknown = set(document) - {"site", "regions"}
    if unknown:
        raise ProfileError(
            f"driver profile {path.name}: unknown table {sorted(unknown)[0]!r} "
            "(only [site] and [regions.<code>])"
        )
    regions = document.get("regions")
    if not isinstance(regions, dict) or not regions:
        raise ProfileError(f"driver profile {path.name}: no [regions.<code>] table")

    site = document.get("site", {})
    return [
        _region(path.name, str(code), _merged(site, table), simulator_url)
        for code, table in regions.items()
    ]


def _region(
    file: str, code: str, table: dict[str, Any], simulator_url: str | None
) -> RegionProfile:
    where = f"driver profile {file}, region {code}"
    if table.get("base_url") == SIMULATOR and simulator_url is not None:
        table = {**table, "base_url": simulator_url}
    try:
        return RegionProfile.model_validate({**table, "file": file, "region": code})
    except ValidationError as error:
        first = error.errors()[0]
        field = ".".join(str(part) for part in first["loc"])
        # A check across fields has no place of its own: its sentence names it.
        said = first["msg"].removeprefix("Value error, ")
        place = f"{where}: {field}" if field else where
        raise ProfileError(f"{place}: {said}") from None


def _drivable(profile: RegionProfile, default_driver: DriverKind) -> None:
    if (profile.driver or default_driver) == "browser" and profile.browser is None:
        raise ProfileError(
            f"driver profile {profile.file}, {profile.label}: the browser driver "
            "needs a [site.browser] or [regions.<code>.browser] table"
        )


def _merged(base: Mapping[str, Any], over: Mapping[str, Any]) -> dict[str, Any]:
    """The region's table over the site's, nested tables merged key by key."""
    merged = dict(base)
    for key, value in over.items():
        inner = merged.get(key)
        if isinstance(value, Mapping) and isinstance(inner, Mapping):
            merged[key] = _merged(inner, value)
        else:
            merged[key] = value
    return merged
