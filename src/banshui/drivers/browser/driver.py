"""Login steps in a headless Chromium, on the site's own pages (Playwright).

Every login flow has a browser context of its own, kept open between its steps;
a session leaves it as cookies, so probes and switches open a fresh context with
them. The region's profile names the selectors. On every failure the page's
screenshot and HTML are saved under ``driver-failures/``, and the error says where.

Only the simulator's slider is moved (its answer is published); a real site's
slider or face check goes to a person.
"""

from __future__ import annotations

import asyncio
import logging
import re
import secrets
import shutil
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

from playwright.async_api import (
    Browser,
    BrowserContext,
    Page,
    Playwright,
    async_playwright,
)
from playwright.async_api import Error as PlaywrightError
from playwright.async_api import TimeoutError as PlaywrightTimeout

from banshui.drivers.base import (
    BureauError,
    FaceCheck,
    Failure,
    Flow,
    Identity,
    Probe,
    SessionHandle,
    Step,
)
from banshui.drivers.profile import (
    SIMULATOR,
    BrowserSite,
    Profiles,
    RegionProfile,
    Selectors,
)
from banshui.drivers.refusals import failure_of

logger = logging.getLogger(__name__)

# The arguments that let Debian's Chromium run in a container (MACHINE-NOTES).
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
# Where the simulator's slider publishes its answer: a contract of the simulator,
# not of any region, so it is not in the profiles.
SIMULATED_SLIDER_ANSWER = "/api/login/slider/{challenge}"
SIMULATED_CHALLENGE = "data-challenge"

OPEN_FLOWS = 32
FLOW_SECONDS = 900
KEPT_FAILURES = 200
# What the page shows after a step, in the order it is looked for.
MARKERS = (
    ("error", "error"),
    ("face_check", "face_check"),
    ("session", "identity"),
    ("identities", "identity"),
    ("slider", "slider"),
    ("send_code", "sms"),
)


class _Missing(Exception):
    """A selector of the profile found nothing on the page in time."""

    def __init__(self, name: str, css: str) -> None:
        super().__init__(name)
        self.name = name
        self.css = css


@dataclass
class _OpenFlow:
    key: str
    profile: RegionProfile
    context: BrowserContext
    page: Page
    url: str
    opened: float = field(default_factory=time.monotonic)


class BrowserDriver:
    """The login pages, driven as a person would, one browser context per flow."""

    def __init__(
        self,
        base_url: str,
        profiles: Profiles,
        failures_dir: Path,
        solve_simulated_slider: bool = True,
        executable: str | None = None,
    ) -> None:
        self._base_url = base_url.rstrip("/")
        self._profiles = profiles
        self._failures = failures_dir
        self._solve_slider = solve_simulated_slider
        self._executable = executable
        self._starting = asyncio.Lock()
        self._playwright: Playwright | None = None
        self._browser: Browser | None = None
        self._flows: dict[str, _OpenFlow] = {}
        # Contexts of flows let go, being closed; held so the tasks are not lost.
        self._closing: set[asyncio.Future[None]] = set()

    async def start(
        self, region: str, tax_id: str, account: str, password: str
    ) -> Flow:
        profile = self._profile(region)
        site = _site(profile)
        context = await self._new_context()
        page = await context.new_page()
        try:
            async with self._recorded(page, profile, "password"):
                url = f"{self._base_url}{site.login_path}"
                await self._goto(page, f"{url}?client_id={quote(profile.client_id)}")
                await self._fill(page, site, "tax_id", tax_id)
                await self._fill(page, site, "account", account)
                await self._fill(page, site, "password", password)
                await self._click(page, site, "login")
                shown = await self._shown(page, profile, "password")
                held = _OpenFlow(_flow_key(page.url), profile, context, page, page.url)
                flow = await self._after_password(held, shown)
        except BaseException:
            await _quietly_close(context)
            raise

        self._keep(held)
        return flow

    async def send_code(self, flow: Flow) -> None:
        held = self._held(flow.flow_id)
        site = _site(held.profile)
        async with self._recorded(held.page, held.profile, "sms"):
            shown = await self._back_to(held, "sms")
            if shown == "slider":
                raise BureauError(Failure.SLIDER_REQUIRED, "请先完成滑块验证")
            await self._click(held.page, site, "send_code")
            await self._shown(held.page, held.profile, "sms")

    async def submit_code(self, flow: Flow, code: str) -> Flow:
        held = self._held(flow.flow_id)
        site = _site(held.profile)
        async with self._recorded(held.page, held.profile, "sms"):
            await self._back_to(held, "sms")
            await self._fill(held.page, site, "code", code)
            await self._click(held.page, site, "submit_code")
            await self._shown(held.page, held.profile, "sms")
            identities = await self._identities(held.page, site)
        return Flow(flow.region, flow.flow_id, Step.IDENTITY, identities)

    async def choose_identity(
        self, flow: Flow, tax_id: str, identity_code: str, business: str
    ) -> SessionHandle | FaceCheck:
        held = self._held(flow.flow_id)
        site = _site(held.profile)
        selectors = site.selectors
        async with self._recorded(held.page, held.profile, "identity"):
            await self._back_to(held, "identity")
            choice = selectors.get("identity_choice").format(
                tax_id=tax_id, identity_code=identity_code
            )
            await self._check(held.page, site, "identity_choice", choice)
            if selectors.business is not None:
                await held.page.select_option(selectors.business, business)
            await self._click(held.page, site, "choose_identity")
            shown = await self._shown(held.page, held.profile, "identity")
            if shown == "face_check":
                qr = await self._attribute(held.page, site, "qr_url", "href")
                return FaceCheck(flow.flow_id, qr, region=flow.region)
            _expect_session(shown, "the identity step")
            return await self._opened(held, flow.region)

    async def face_check_passed(self, check: FaceCheck) -> bool:
        held = self._held(check.face_check_id)
        selectors = _site(held.profile).selectors
        async with self._recorded(held.page, held.profile, "face_check"):
            await self._back_to(held, "face_check")
            approved = held.page.locator(selectors.get("face_check_approved"))
            return await approved.count() > 0

    async def session_after_face_check(self, check: FaceCheck) -> SessionHandle:
        held = self._held(check.face_check_id)
        site = _site(held.profile)
        async with self._recorded(held.page, held.profile, "face_check"):
            await self._back_to(held, "face_check")
            await self._click(held.page, site, "face_check_done")
            shown = await self._shown(held.page, held.profile, "face_check")
            _expect_session(shown, "the face check")
            return await self._opened(held, check.region)

    async def probe(self, session: SessionHandle) -> Probe:
        profile = self._profile(session.region)
        site = _site(profile)
        async with (
            self._session_page(session) as page,
            self._recorded(page, profile, "probe"),
        ):
            await self._goto(page, f"{self._base_url}{site.session_path}")
            try:
                await self._shown(page, profile, "probe")
            except BureauError as error:
                if error.failure is Failure.SESSION_ENDED:
                    return Probe(alive=False)
                raise
            tax_id = await self._text(page, site, "current_tax_id")
            return Probe(alive=True, tax_id=tax_id)

    async def switch(self, session: SessionHandle, tax_id: str) -> SessionHandle:
        profile = self._profile(session.region)
        site = _site(profile)
        async with (
            self._session_page(session) as page,
            self._recorded(page, profile, "switch"),
        ):
            await self._goto(page, f"{self._base_url}{site.session_path}")
            await self._shown(page, profile, "switch")
            button = site.selectors.get("switch_to").format(tax_id=tax_id)
            await self._click(page, site, "switch_to", button)
            await self._shown(page, profile, "switch")
            return await self._handle(page, site, session.region)

    async def close(self) -> None:
        for held in list(self._flows.values()):
            await _quietly_close(held.context)
        self._flows.clear()
        if self._closing:
            await asyncio.gather(*self._closing, return_exceptions=True)
        self._closing.clear()
        if self._browser is not None:
            await self._browser.close()
            self._browser = None
        if self._playwright is not None:
            await self._playwright.stop()
            self._playwright = None

    # Steps on the page.

    async def _after_password(self, held: _OpenFlow, shown: str) -> Flow:
        profile, page, key = held.profile, held.page, held.key
        site = _site(profile)
        if shown == "identities":
            identities = await self._identities(page, site)
            return Flow(profile.region, key, Step.IDENTITY, identities)
        if shown != "slider":
            return Flow(profile.region, key, Step.CODE)

        challenge = await self._attribute(page, site, "slider", SIMULATED_CHALLENGE)
        if not (self._solve_slider and profile.simulated_slider):
            return Flow(profile.region, key, Step.SLIDER, slider_id=challenge)
        await self._slide(page, site, challenge)
        await self._shown(page, profile, "slider")
        return Flow(profile.region, key, Step.CODE)

    async def _slide(self, page: Page, site: BrowserSite, challenge: str) -> None:
        """Drag the simulated slider by the offset its own address publishes."""
        path = SIMULATED_SLIDER_ANSWER.format(challenge=quote(challenge))
        answer = await page.context.request.get(f"{self._base_url}{path}")
        offset = int((await answer.json())["data"]["offset"])

        handle = page.locator(site.selectors.get("slider_handle"))
        box = await handle.bounding_box(timeout=_ms(site))
        if box is None:
            raise _Missing("slider_handle", site.selectors.get("slider_handle"))
        x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
        async with page.expect_navigation(timeout=_ms(site)) as navigation:
            await page.mouse.move(x, y)
            await page.mouse.down()
            await page.mouse.move(x + offset, y, steps=8)
            await page.mouse.up()
        _check_status(await navigation.value)

    async def _identities(self, page: Page, site: BrowserSite) -> tuple[Identity, ...]:
        selectors = site.selectors
        rows = page.locator(selectors.get("identity_row"))
        found = []
        for index in range(await rows.count()):
            row = rows.nth(index)
            unconfirmed = row.locator(selectors.get("identity_unconfirmed"))
            found.append(
                Identity(
                    tax_id=await _cell(row, selectors, "identity_tax_id"),
                    enterprise_name=await _cell(row, selectors, "identity_name"),
                    identity_code=await _cell(row, selectors, "identity_code"),
                    confirmed=await unconfirmed.count() == 0,
                )
            )
        return tuple(found)

    async def _opened(self, held: _OpenFlow, region: str) -> SessionHandle:
        """The session the flow ended in; the flow's context is no longer needed."""
        handle = await self._handle(held.page, _site(held.profile), region)
        self._flows.pop(held.key, None)
        await _quietly_close(held.context)
        return handle

    async def _handle(
        self, page: Page, site: BrowserSite, region: str
    ) -> SessionHandle:
        cookies = await page.context.cookies(self._base_url)
        return SessionHandle(
            base_url=self._base_url,
            cookies={cookie["name"]: cookie["value"] for cookie in cookies},
            tax_id=await self._text(page, site, "current_tax_id"),
            identity_code=await self._text(page, site, "current_identity_code"),
            enterprise_name=await self._text(page, site, "current_enterprise"),
            region=region,
        )

    async def _back_to(self, held: _OpenFlow, step: str) -> str:
        """The flow's page afresh (a reload, as a person would): what it shows."""
        await self._goto(held.page, held.url)
        return await self._shown(held.page, held.profile, step)

    async def _shown(self, page: Page, profile: RegionProfile, step: str) -> str:
        """Which marker the page shows now; a refusal on it is raised as such."""
        site = _site(profile)
        markers = [
            (name, css)
            for name, needs in MARKERS
            if (css := getattr(site.selectors, name)) is not None
            and (needs == "error" or profile.has(needs))
        ]
        try:
            await page.locator(", ".join(css for _, css in markers)).first.wait_for(
                timeout=_ms(site)
            )
        except PlaywrightTimeout:
            listed = ", ".join(sorted(profile.steps))
            raise BureauError(
                Failure.PROFILE,
                f"{profile.label}: after the {step} step the page showed none of the "
                f"steps the profile {profile.file} lists ({listed})",
            ) from None

        for name, css in markers:
            if await page.locator(css).count() > 0:
                if name == "error":
                    raise await self._refusal(page, css)
                return name
        raise BureauError(Failure.UNAVAILABLE, "the page changed while read")

    async def _refusal(self, page: Page, css: str) -> BureauError:
        shown = page.locator(css).first
        message = (await shown.inner_text()).strip()
        raw = await shown.get_attribute("data-code")
        code = int(raw) if raw is not None and raw.isdigit() else None
        failure = failure_of(code, message)
        if failure is None:
            logger.warning("unexpected refusal %r on %s", code, urlsplit(page.url).path)
            failure = Failure.UNAVAILABLE
        return BureauError(failure, message, code)

    # Playwright, with the profile's selectors by name.

    async def _goto(self, page: Page, url: str) -> None:
        try:
            response = await page.goto(url, timeout=30_000)
        except PlaywrightError as error:
            raise BureauError(Failure.UNAVAILABLE, _short(error)) from None
        _check_status(response)

    async def _fill(self, page: Page, site: BrowserSite, name: str, value: str) -> None:
        css = site.selectors.get(name)
        try:
            await page.fill(css, value, timeout=_ms(site))
        except PlaywrightTimeout:
            raise _Missing(name, css) from None

    async def _check(self, page: Page, site: BrowserSite, name: str, css: str) -> None:
        try:
            await page.check(css, timeout=_ms(site))
        except PlaywrightTimeout:
            raise _Missing(name, css) from None

    async def _click(
        self, page: Page, site: BrowserSite, name: str, css: str | None = None
    ) -> None:
        """Click what submits a step, and wait for the page it leads to."""
        target = css or site.selectors.get(name)
        try:
            await page.locator(target).first.wait_for(timeout=_ms(site))
        except PlaywrightTimeout:
            raise _Missing(name, target) from None
        async with page.expect_navigation(timeout=30_000) as navigation:
            await page.click(target, timeout=_ms(site))
        _check_status(await navigation.value)

    async def _text(self, page: Page, site: BrowserSite, name: str) -> str:
        css = site.selectors.get(name)
        try:
            return (await page.locator(css).first.inner_text(timeout=_ms(site))).strip()
        except PlaywrightTimeout:
            raise _Missing(name, css) from None

    async def _attribute(
        self, page: Page, site: BrowserSite, name: str, attribute: str
    ) -> str:
        css = site.selectors.get(name)
        try:
            value = await page.locator(css).first.get_attribute(
                attribute, timeout=_ms(site)
            )
        except PlaywrightTimeout:
            raise _Missing(name, css) from None
        if value is None:
            raise _Missing(f"{name} [{attribute}]", css)
        return value

    # The browser, its contexts, the flows kept open, the failures kept.

    async def _new_context(self) -> BrowserContext:
        browser = await self._running_browser()
        return await browser.new_context(locale="zh-CN")

    async def _running_browser(self) -> Browser:
        async with self._starting:
            if self._browser is None:
                executable = self._executable or shutil.which("chromium")
                if executable is None:
                    raise BureauError(
                        Failure.UNAVAILABLE,
                        "the browser driver needs Chromium: install Debian's "
                        "chromium package (or put chromium on PATH)",
                    )
                self._playwright = await async_playwright().start()
                self._browser = await self._playwright.chromium.launch(
                    executable_path=executable, headless=True, args=CHROMIUM_ARGS
                )
            return self._browser

    @asynccontextmanager
    async def _session_page(self, session: SessionHandle) -> AsyncIterator[Page]:
        context = await self._new_context()
        cookies: list[Any] = [
            {"name": name, "value": value, "url": self._base_url}
            for name, value in session.cookies.items()
        ]
        await context.add_cookies(cookies)
        try:
            yield await context.new_page()
        finally:
            await _quietly_close(context)

    def _keep(self, held: _OpenFlow) -> None:
        """Keep a flow's page; the oldest and the stale ones are let go."""
        now = time.monotonic()
        for old in list(self._flows.values()):
            if now - old.opened > FLOW_SECONDS or len(self._flows) >= OPEN_FLOWS:
                del self._flows[old.key]
                closing = asyncio.ensure_future(_quietly_close(old.context))
                self._closing.add(closing)
                closing.add_done_callback(self._closing.discard)
        self._flows[held.key] = held

    def _held(self, flow_id: str) -> _OpenFlow:
        held = self._flows.get(flow_id)
        if held is None:
            raise BureauError(
                Failure.UNKNOWN_FLOW, "登录流程不存在或已失效，请重新登录"
            )
        return held

    def _profile(self, region: str) -> RegionProfile:
        profile = self._profiles.get(region)
        if profile is None:
            raise BureauError(
                Failure.PROFILE, f"no driver profile describes region {region}"
            )
        if profile.base_url not in (SIMULATOR, self._base_url):
            logger.warning("%s names %s", profile.label, profile.base_url)
        return profile

    @asynccontextmanager
    async def _recorded(
        self, page: Page, profile: RegionProfile, step: str
    ) -> AsyncIterator[None]:
        """Save the page on any failure of the step, and say where it went."""
        try:
            yield
        except _Missing as missing:
            saved = await self._save(page, profile, step)
            raise BureauError(
                Failure.PROFILE,
                f"{profile.label}: the {step} step found nothing for the selector "
                f"{missing.name} ({missing.css}) of profile {profile.file} within "
                f"{_site(profile).timeout_seconds:g} s; {saved}",
            ) from None
        except BureauError as error:
            saved = await self._save(page, profile, step)
            logger.warning("%s, %s step: %s; %s", profile.label, step, error, saved)
            if error.failure is not Failure.PROFILE:
                raise
            # The bureau's own words stay as they are; a profile's fault says
            # where the page that shows it went.
            raise BureauError(error.failure, f"{error.message}; {saved}") from None
        except PlaywrightError as error:
            saved = await self._save(page, profile, step)
            raise BureauError(
                Failure.UNAVAILABLE, f"{_short(error)}; {saved}"
            ) from None

    async def _save(self, page: Page, profile: RegionProfile, step: str) -> str:
        """The page's screenshot and HTML under driver-failures/; where they are."""
        stamp = time.strftime("%Y%m%dT%H%M%S") + f"-{secrets.token_hex(3)}"
        base = self._failures / f"{stamp}-{profile.region}-{step}"
        try:
            await asyncio.to_thread(self._failures.mkdir, 0o700, True, True)
            await page.screenshot(path=f"{base}.png", full_page=True, timeout=10_000)
            html = await page.content()
            await asyncio.to_thread(_write_html, Path(f"{base}.html"), html)
            await asyncio.to_thread(_prune, self._failures)
        except (PlaywrightError, OSError) as error:
            logger.warning("could not save the failed page: %s", _short(error))
            return "the page could not be saved"
        return f"the page is saved as {base}.png and .html"


def _site(profile: RegionProfile) -> BrowserSite:
    if profile.browser is None:
        raise BureauError(
            Failure.PROFILE,
            f"{profile.label}: the profile {profile.file} has no browser table",
        )
    return profile.browser


async def _cell(row: Any, selectors: Selectors, name: str) -> str:
    text = await row.locator(selectors.get(name)).first.inner_text()
    return str(text).strip()


def _expect_session(shown: str, after: str) -> None:
    if shown != "session":
        raise BureauError(
            Failure.UNAVAILABLE, f"after {after} the page shows {shown!r}, no session"
        )


def _check_status(response: Any) -> None:
    if response is not None and response.status >= 500:
        raise BureauError(Failure.UNAVAILABLE, f"HTTP {response.status}")


def _flow_key(url: str) -> str:
    """The flow as the page's address names it, else a key of the driver's own."""
    last = urlsplit(url).path.rstrip("/").rsplit("/", 1)[-1]
    return last if re.fullmatch(r"[0-9a-f]{16,64}", last) else secrets.token_hex(16)


def _ms(site: BrowserSite) -> float:
    return site.timeout_seconds * 1000


def _short(error: BaseException) -> str:
    return str(error).splitlines()[0][:200] if str(error) else type(error).__name__


def _write_html(path: Path, html: str) -> None:
    path.write_text(html, encoding="utf-8")


def _prune(folder: Path) -> None:
    saved = sorted(folder.glob("*.png"))
    for old in saved[: max(0, len(saved) - KEPT_FAILURES)]:
        old.unlink(missing_ok=True)
        old.with_suffix(".html").unlink(missing_ok=True)


async def _quietly_close(context: BrowserContext) -> None:
    try:
        await context.close()
    except PlaywrightError:
        logger.debug("a browser context was already closed")
