"""A newcomer gets the registration form wrong in a real Chromium, at a
phone's width and a desktop's: every error shows beside its field at once,
focus moves to the summary, its links lead to the fields, and a message
goes as soon as its field is changed."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from . import browser
from .browser import served_site
from .test_admin_browser import NARROW, fits_width

pytestmark = pytest.mark.integration

playwright = browser.playwright
chromium = browser.chromium
context = browser.context

WIDE = {"width": 1440, "height": 900}


@pytest.mark.parametrize("viewport", [NARROW, WIDE], ids=["420px", "1440px"])
def test_registration_errors_beside_their_fields(
    tmp_path, file_settings, chromium, viewport
):
    with served_site(tmp_path, file_settings, {}) as site:
        ctx = chromium.new_context(viewport=viewport)
        try:
            page = ctx.new_page()
            page.goto(site.url("/register"))
            form = page.locator("form#register-form")
            form.locator("#login").fill("a!")
            form.locator("#email").fill("not an address")
            form.locator("#password").fill("password")
            form.locator("#password_confirm").fill("password")
            form.get_by_role("button", name="Create account").click()
            page.wait_for_load_state()

            summary = page.locator("#form-errors")
            expect(summary).to_be_focused()
            expect(summary.locator("a")).to_have_count(3)
            for name in ("login", "email", "password"):
                field = page.locator(f"#{name}")
                expect(field).to_have_attribute("aria-invalid", "true")
                expect(page.locator(f"#{name}-error")).to_be_visible()
            expect(page.locator("#email-error")).to_have_text(
                "Enter one email address, like name@example.org."
            )
            assert fits_width(page)

            summary.get_by_role("link", name="Enter one email address").click()
            expect(page.locator("#email")).to_be_focused()

            page.locator("#login").fill("ada")
            expect(page.locator("#login-error")).to_be_hidden()
            expect(page.locator("#login")).not_to_have_attribute("aria-invalid", "true")
            # The others stay until their fields change.
            expect(page.locator("#email-error")).to_be_visible()
        finally:
            ctx.close()
