"""The idle-timeout experience in a real browser: Chromium, session.js and
`pserve`, with nothing faked on the server (SECURITY.md, "Sessions")."""

from __future__ import annotations

import re
import time
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from playwright.sync_api import expect

from . import browser
from .browser import PingLog, path_of, served_site, sign_in

pytestmark = pytest.mark.integration

# The fixtures, under the names tests ask for.
playwright = browser.playwright
chromium = browser.chromium
context = browser.context

PASSWORD = "violet harbour lantern seventeen"
# Short enough for a test, long enough for a loaded two-core machine to
# click the button well inside the warning window.
IDLE, WARNING = 20, 10


def is_ping(response) -> bool:
    return response.request.method == "POST" and path_of(response.url) == "/ping"


def site_settings(file_settings, **session) -> dict[str, str]:
    return {
        **file_settings,
        "auth.two_step": "never",
        **{f"session.{k}": str(v) for k, v in session.items()},
    }


@pytest.fixture
def short_site(tmp_path, file_settings):
    settings = site_settings(
        file_settings, idle_timeout=IDLE, idle_warning=WARNING, absolute_timeout=3600
    )
    with served_site(tmp_path, settings, {"ada": PASSWORD}) as site:
        yield site


@pytest.fixture
def site(tmp_path, file_settings):
    """The production timings: 30 minutes idle, a 2-minute warning."""
    with served_site(tmp_path, site_settings(file_settings), {"ada": PASSWORD}) as s:
        yield s


def test_warning_stay_signed_in_then_time_out(short_site, context, chromium):
    page = context.new_page()
    pings = PingLog(page)
    dialog = page.locator("#idle-dialog")
    heading = page.get_by_role("heading", level=1)
    logouts = []
    context.on(
        "request",
        lambda r: (
            logouts.append(parse_qs(r.post_data))
            if r.method == "POST" and path_of(r.url) == "/logout"
            else None
        ),
    )

    # (1) Sign in through the real form.
    before_sign_in = time.monotonic()
    sign_in(page, short_site, "ada", PASSWORD)
    landed = time.monotonic()
    # The server started the idle clock before the page arrived.
    original_deadline = landed + IDLE
    expect(heading).to_have_text("ada")
    expires_in = int(page.locator("body").get_attribute("data-expires-in"))
    assert IDLE - 5 <= expires_in <= IDLE
    expect(dialog).to_be_hidden()
    # A second tab of the same session, on another page, left alone.
    other = context.new_page()
    other_pings = PingLog(other)
    other_dialog = other.locator("#idle-dialog")
    other.goto(short_site.url("/"))
    expect(other.locator(".account-link")).to_have_text("ada")

    # (2) The warning comes once the time left is within the warning window,
    # and not before, in both tabs.
    expect(dialog).to_be_visible(timeout=(IDLE + 15) * 1000)
    shown = time.monotonic()
    assert shown - before_sign_in >= expires_in - WARNING - 1
    expect(dialog.get_by_role("heading")).to_have_text("Are you still there?")
    countdown = page.locator("#idle-countdown")
    expect(countdown).to_have_text(re.compile(r"^\d{1,2} seconds?$"))
    assert 0 < int(countdown.text_content().split()[0]) <= WARNING
    stay = dialog.get_by_role("button", name="Stay signed in")
    expect(stay).to_be_focused()
    expect(dialog.get_by_role("button", name="Sign out")).to_be_visible()
    expect(other_dialog).to_be_visible()
    # Nobody did anything since signing in, so nothing kept the session alive.
    assert len(pings) == len(other_pings) == 0

    # (3) "Stay signed in" pings, the server extends the session, the
    # dialog closes, in the other tab too.
    with page.expect_response(is_ping) as answer:
        stay.click()
    assert answer.value.status == 200
    reply = answer.value.json()
    assert reply["signed_in"] is True
    assert reply["expires_in"] >= IDLE - 3
    stayed = time.monotonic()
    expect(dialog).to_be_hidden()
    expect(other_dialog).to_be_hidden()
    assert len(pings) == 1

    # Past the deadline the session had before: still signed in, for a
    # fresh page as for the server, and the other tab stayed where it was.
    page.wait_for_timeout(max(0.0, original_deadline + 1 - time.monotonic()) * 1000)
    here = "/users/ada/?section=sessions"
    page.goto(short_site.url(here))
    assert urlsplit(page.url).path == "/users/ada/"
    expect(heading).to_have_text("ada")
    check = context.request.get(short_site.url("/users/ada/"), max_redirects=0)
    assert check.status == 200
    cookies = context.cookies()
    assert path_of(other.url) == "/"

    # (4) With nothing more happening, each tab ends up on the "timed out"
    # page for where it was; no ping was sent on the way.
    for tab in (page, other):
        tab.wait_for_url(
            lambda url: path_of(url) == "/logged-out", timeout=(IDLE + 15) * 1000
        )
    timed_out = time.monotonic()
    assert timed_out - stayed >= IDLE - 2
    for tab, where in ((page, here), (other, "/")):
        assert parse_qs(urlsplit(tab.url).query, strict_parsing=True) == {
            "timeout": ["1"],
            "next": [where],
        }
        expect(tab.get_by_role("heading", level=1)).to_have_text(
            "Your session timed out"
        )
    expect(page.get_by_role("link", name="Sign in again")).to_have_attribute(
        "href", short_site.url("/login?" + urlencode({"next": here}))
    )
    assert pings.since(stayed) == 0
    assert len(pings) == 1
    assert len(other_pings) == 0
    # Each tab asked the server to sign out for where it was. The first
    # ended the session; the other's CSRF token may then be stale, which
    # must not matter to the person (both are on the "timed out" page).
    assert len(logouts) == 2
    by_place = {form["next"][0]: form for form in logouts}
    assert by_place.keys() == {here, "/"}
    for form in by_place.values():
        assert form["reason"] == ["timeout"]
        assert form["csrf_token"][0]

    # The server ended the session: the browser's own request, and the
    # cookie it held while signed in, both go to the sign-in page now.
    gone = context.request.get(short_site.url("/users/ada/"), max_redirects=0)
    assert gone.status == 303
    assert path_of(gone.headers["location"]) == "/login"
    replay = chromium.new_context()
    try:
        replay.add_cookies(cookies)
        stolen = replay.request.get(short_site.url("/users/ada/"), max_redirects=0)
        assert stolen.status == 303
        assert path_of(stolen.headers["location"]) == "/login"
    finally:
        replay.close()

    # Back from the "timed out" page: no stale signed-in page (from the
    # back/forward cache) but the sign-in page, to come back here after.
    page.go_back(wait_until="commit")
    page.wait_for_url(lambda url: path_of(url) == "/login")
    assert parse_qs(urlsplit(page.url).query) == {"next": [here]}
    expect(heading).to_have_text("Sign in")


def test_ping_only_on_activity_at_most_once_a_minute(site, context, tmp_path):
    """With the browser's clock under the test's control: half an hour of
    an idle page, every timer firing, sends nothing."""
    page = context.new_page()
    page.clock.install()
    pings = PingLog(page)
    dialog = page.locator("#idle-dialog")
    sign_in(page, site, "ada", PASSWORD)
    heading = page.get_by_role("heading", level=1)

    page.clock.run_for("10:00")
    assert len(pings) == 0
    expect(dialog).to_be_hidden()

    # A key press is activity: one ping...
    with page.expect_response(is_ping) as first:
        page.keyboard.press("Shift")
    assert first.value.ok
    # ... and more activity within the minute sends no other.
    page.keyboard.press("Shift")
    heading.click()
    page.clock.run_for("00:50")
    heading.click()
    page.clock.run_for("00:11")
    with page.expect_response(is_ping) as second:
        heading.click()
    assert second.value.ok
    assert len(pings) == 2

    # Idle again until the warning: still nothing sent.
    page.clock.run_for("28:30")
    expect(dialog).to_be_visible()
    expect(page.locator("#idle-countdown")).to_have_text("2 minutes")
    assert len(pings) == 2

    # The dialog fits a phone and a wide screen.
    for width, height in ((420, 800), (1920, 1080)):
        page.set_viewport_size({"width": width, "height": height})
        page.screenshot(path=tmp_path / f"idle-dialog-{width}.png")
        box = dialog.bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= width
        assert box["y"] >= 0 and box["y"] + box["height"] <= height
        for name in ("Stay signed in", "Sign out"):
            button = dialog.get_by_role("button", name=name).bounding_box()
            assert button["x"] >= box["x"]
            assert button["x"] + button["width"] <= box["x"] + box["width"]

    with page.expect_response(is_ping) as third:
        dialog.get_by_role("button", name="Stay signed in").click()
    assert third.value.ok
    expect(dialog).to_be_hidden()
    assert len(pings) == 3

    # Escape answers the dialog as "stay", not by leaving it unanswered.
    page.clock.run_for("28:30")
    expect(dialog).to_be_visible()
    with page.expect_response(is_ping) as fourth:
        page.keyboard.press("Escape")
    assert fourth.value.ok
    expect(dialog).to_be_hidden()
    assert len(pings) == 4

    # Signing out from the header, then going back: the sign-in page, not
    # the signed-in page as the back/forward cache kept it.
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url(lambda url: path_of(url) == "/logged-out")
    expect(heading).to_have_text("You are signed out")
    page.go_back(wait_until="commit")
    page.wait_for_url(lambda url: path_of(url) == "/login")
    expect(heading).to_have_text("Sign in")
    assert len(pings) == 4


def test_the_absolute_limit_is_explained_and_cannot_be_extended(
    tmp_path, file_settings, context
):
    # Idle would allow a minute; the session's whole life is 20 seconds.
    settings = site_settings(
        file_settings, idle_timeout=60, idle_warning=10, absolute_timeout=20
    )
    with served_site(tmp_path, settings, {"ada": PASSWORD}) as site:
        page = context.new_page()
        sign_in(page, site, "ada", PASSWORD)
        dialog = page.locator("#idle-dialog")
        expect(dialog).to_be_visible(timeout=30_000)
        expect(page.locator("#idle-reason")).to_contain_text(
            "a session lasts at most 1 minute"
        )
        expect(page.locator("#idle-stay")).to_be_hidden()
        page.wait_for_url(re.compile(r"/logged-out\?"), timeout=30_000)
        query = parse_qs(urlsplit(page.url).query)
        assert query["timeout"] == ["1"] and query["limit"] == ["1"]
        assert query["next"] == ["/users/ada/"]
        expect(page.locator("main")).to_contain_text("a session lasts")
