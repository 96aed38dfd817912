"""The driver the engine talks to: each region's steps go to the driver its
profile (or ``BANSHUI_DRIVER``) names, one driver per kind and site address."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from banshui.drivers.base import (
    BureauDriver,
    FaceCheck,
    Flow,
    Probe,
    SessionHandle,
)
from banshui.drivers.profile import (
    SIMULATOR,
    DriverKind,
    Profiles,
    RegionProfile,
    load_profiles,
)

Factory = Callable[[DriverKind, str, Profiles], BureauDriver]


class RegionalDriver:
    """Routes every step by region; the engine never learns which driver ran it."""

    def __init__(
        self,
        profiles: Profiles,
        default_kind: DriverKind,
        simulator_url: str,
        make: Factory,
    ) -> None:
        self._profiles = profiles
        self._default = default_kind
        self._simulator_url = simulator_url
        self._make = make
        self._drivers: dict[tuple[DriverKind, str], BureauDriver] = {}

    async def start(
        self, region: str, tax_id: str, account: str, password: str
    ) -> Flow:
        return await self._for(region).start(region, tax_id, account, password)

    async def send_code(self, flow: Flow) -> None:
        await self._for(flow.region).send_code(flow)

    async def submit_code(self, flow: Flow, code: str) -> Flow:
        return await self._for(flow.region).submit_code(flow, code)

    async def choose_identity(
        self, flow: Flow, tax_id: str, identity_code: str, business: str
    ) -> SessionHandle | FaceCheck:
        driver = self._for(flow.region)
        return await driver.choose_identity(flow, tax_id, identity_code, business)

    async def face_check_passed(self, check: FaceCheck) -> bool:
        return await self._for(check.region).face_check_passed(check)

    async def session_after_face_check(self, check: FaceCheck) -> SessionHandle:
        return await self._for(check.region).session_after_face_check(check)

    async def probe(self, session: SessionHandle) -> Probe:
        return await self._for(session.region).probe(session)

    async def switch(self, session: SessionHandle, tax_id: str) -> SessionHandle:
        return await self._for(session.region).switch(session, tax_id)

    async def close(self) -> None:
        drivers, self._drivers = list(self._drivers.values()), {}
        for driver in drivers:
            await driver.close()

    def _for(self, region: str) -> BureauDriver:
        profile = self._profiles.get(region)
        kind = self._kind(profile)
        url = self._url(profile)
        driver = self._drivers.get((kind, url))
        if driver is None:
            driver = self._drivers[(kind, url)] = self._make(kind, url, self._profiles)
        return driver

    def _kind(self, profile: RegionProfile | None) -> DriverKind:
        if profile is None or profile.driver is None:
            return self._default
        return profile.driver

    def _url(self, profile: RegionProfile | None) -> str:
        # A region without a profile still gets a driver, whose first step then
        # refuses with a message naming the region.
        if profile is None or profile.base_url == SIMULATOR:
            return self._simulator_url
        return profile.base_url


def build_driver(
    default_kind: DriverKind,
    simulator_url: str,
    var_dir: Path,
    profiles_dir: Path | None = None,
) -> RegionalDriver:
    """The drivers of a running banshui, their profiles checked now."""
    profiles = load_profiles(profiles_dir, simulator_url, default_kind)

    def make(kind: DriverKind, url: str, known: Profiles) -> BureauDriver:
        if kind == "browser":
            # Imported here: Playwright is needed only where a region uses it.
            from banshui.drivers.browser import BrowserDriver

            return BrowserDriver(url, known, failures_dir=var_dir / "driver-failures")

        from banshui.drivers.http import HttpDriver

        # Only a profile that marks its slider as the simulator's lets it be passed.
        return HttpDriver(url, solve_simulated_slider=True, profiles=known)

    return RegionalDriver(profiles, default_kind, simulator_url, make)
