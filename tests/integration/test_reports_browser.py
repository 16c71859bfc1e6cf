"""An admin reads this week's security report in a real Chromium, at a
phone's width and a desktop's, and as it prints: the charts fit, speak to a
screen reader, and break no content security rule."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from . import browser
from .browser import served_site, sign_in
from .test_admin_browser import NARROW, PASSWORD, fits_width

pytestmark = pytest.mark.integration

playwright = browser.playwright
chromium = browser.chromium
context = browser.context

WIDE = {"width": 1440, "height": 900}
CHARTS = (
    "Events by hour of day and weekday (UTC)",
    "Failed sign-ins by day",
    "Sign-ins by browser family",
    "Sign-ins from new and returning devices",
)


@pytest.mark.parametrize("viewport", [NARROW, WIDE], ids=["420px", "1440px"])
def test_an_admin_reads_the_week_at_any_width_and_in_print(
    tmp_path, file_settings, chromium, context, viewport
):
    settings = {**file_settings, "auth.two_step": "never"}
    users = {"root": PASSWORD, "bob": PASSWORD}
    with served_site(tmp_path, settings, users, admins=("root",)) as site:
        # Something to report: a wrong password, then bob signs in.
        bob = context.new_page()
        bob.goto(site.url("/login"))
        bob.locator("[name=login]").fill("bob")
        bob.locator("[name=password]").fill("not bob's password")
        bob.get_by_role("button", name="Sign in").click()
        expect(bob.locator("main")).to_contain_text("Sign-in failed")
        sign_in(bob, site, "bob", PASSWORD)

        ctx = chromium.new_context(viewport=viewport)
        try:
            admin = ctx.new_page()
            refused: list[str] = []
            admin.on(
                "console",
                lambda m: (
                    refused.append(m.text) if "Content Security" in m.text else None
                ),
            )
            sign_in(admin, site, "root", PASSWORD)
            admin.goto(site.url("/reports/"))
            assert fits_width(admin)
            admin.locator("table tbody a").first.click()
            admin.wait_for_url(re.compile(r"/reports/\d{4}-W\d\d/$"))
            expect(admin.locator("h1")).to_contain_text("Security report, week")
            row = admin.locator("#summary-failed_sign_ins")
            expect(row.locator("td").first).to_have_text("1")
            for title in CHARTS:
                chart = admin.get_by_role("img", name=title)
                expect(chart).to_be_visible()
                box = chart.bounding_box()
                assert box is not None and box["width"] <= viewport["width"]
            assert fits_width(admin)
            assert refused == []

            admin.emulate_media(media="print")
            expect(admin.locator(".site-header")).to_be_hidden()
            expect(admin.locator("nav.downloads")).to_be_hidden()
            expect(admin.get_by_role("img", name=CHARTS[0])).to_be_visible()
        finally:
            ctx.close()
