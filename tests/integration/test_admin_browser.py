"""An admin at a phone's width disables an account in a real Chromium; the
account's open session, in another browser, ends there and then."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from . import browser
from .browser import served_site, sign_in

pytestmark = pytest.mark.integration

playwright = browser.playwright
chromium = browser.chromium
context = browser.context

PASSWORD = "violet harbour lantern seventeen"
NARROW = {"width": 420, "height": 900}


def fits_width(page) -> bool:
    """Nothing makes the page itself scroll sideways (wide tables scroll
    inside their own box)."""
    return page.evaluate(
        "document.documentElement.scrollWidth <= window.innerWidth + 1"
    )


def test_an_admin_at_420px_disables_a_user_whose_session_ends(
    tmp_path, file_settings, chromium, context
):
    settings = {**file_settings, "auth.two_step": "never"}
    users = {"root": PASSWORD, "bob": PASSWORD}
    with served_site(tmp_path, settings, users, admins=("root",)) as site:
        bob = context.new_page()
        sign_in(bob, site, "bob", PASSWORD)
        expect(bob.locator("main")).to_contain_text("bob")

        narrow = chromium.new_context(viewport=NARROW)
        try:
            admin = narrow.new_page()
            sign_in(admin, site, "root", PASSWORD)
            admin.goto(site.url("/users/"))
            assert fits_width(admin)
            admin.get_by_role("link", name="bob", exact=True).click()
            admin.wait_for_url(re.compile(r"/users/bob/@@admin$"))
            assert fits_width(admin)

            form = admin.locator("form#disable-form")
            form.get_by_label("Reason").fill("Left the company")
            form.get_by_role("button", name="Disable").click()
            admin.wait_for_url(re.compile(r"/users/bob/@@admin$"))
            expect(admin.locator("main")).to_contain_text("disabled")
            assert fits_width(admin)
            # The admin's own history of the account shows the change.
            expect(admin.locator("main")).to_contain_text("Left the company")
        finally:
            narrow.close()

        # Bob's next step finds his session gone.
        bob.reload()
        expect(bob).to_have_url(re.compile(r"/login"))
        bob.goto(site.url("/users/bob/"))
        expect(bob).to_have_url(re.compile(r"/login"))
