"""The codes listing and the timed-out page in a real Chromium, at a
phone's width and a desktop's: nothing spills sideways, the codes table
turns into cards on the phone, and "Sign in again" has a line of its own."""

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
WIDTHS = pytest.mark.parametrize("viewport", [NARROW, WIDE], ids=["420px", "1440px"])
# As long as a login may be: the widest owner a card must hold.
LONG_LOGIN = "margaret-longbottom-whitfield-ab"
OWNERS = ("bob", "carol", LONG_LOGIN)


def table_fits_its_box(page) -> bool:
    """The table needs no scrolling of its own either."""
    return page.evaluate(
        "(() => { const w = document.querySelector('.table-wrap');"
        " return w.scrollWidth <= w.clientWidth + 1; })()"
    )


def ask_for_resets(page, site) -> None:
    """A code for each owner, the way a person asks for one."""
    for login in OWNERS:
        page.goto(site.url("/reset-password"))
        form = page.locator("form#reset-form")
        form.locator("[name=login]").fill(login)
        form.locator("button[type=submit]").click()
        page.wait_for_url(re.compile(r"/new-password$"))


@WIDTHS
def test_an_admin_reads_and_filters_the_codes_at_any_width(
    tmp_path, file_settings, chromium, context, viewport
):
    settings = {**file_settings, "auth.two_step": "never"}
    users = {"root": PASSWORD, **dict.fromkeys(OWNERS, PASSWORD)}
    with served_site(tmp_path, settings, users, admins=("root",)) as site:
        ask_for_resets(context.new_page(), site)

        ctx = chromium.new_context(viewport=viewport)
        try:
            admin = ctx.new_page()
            sign_in(admin, site, "root", PASSWORD)
            admin.goto(site.url("/codes/"))
            count = admin.locator("#codes-count")
            expect(count).to_contain_text("3 codes in all")
            assert fits_width(admin)
            assert table_fits_its_box(admin)
            header = admin.locator("table.listing thead")
            if viewport is NARROW:
                # Cards: no header row, each value named in its cell.
                expect(header).to_be_hidden()
                cell = admin.locator('td[data-label="Owner"]').first
                label = cell.evaluate("td => getComputedStyle(td, '::before').content")
                assert label == '"Owner: "'
                # The order can still be turned round.
                expect(count.get_by_role("link")).to_be_visible()
            else:
                expect(header).to_be_visible()
            for cell in admin.locator("table.listing td").all():
                box = cell.bounding_box()
                assert box is not None
                assert box["x"] + box["width"] <= viewport["width"]

            # The filters are styled fields that fit the page.
            state = admin.get_by_label("State")
            assert state.evaluate("s => getComputedStyle(s).borderRadius") == "6px"
            for select in admin.locator("form.filters select").all():
                box = select.bounding_box()
                assert box is not None
                assert box["x"] + box["width"] <= viewport["width"]
            state.select_option("pending")
            admin.get_by_label("Purpose").select_option("reset-password")
            admin.locator("form.filters").get_by_role("button", name="Show").click()
            admin.wait_for_url(re.compile(r"state=pending"))
            expect(count).to_contain_text("3 of 3 codes")
            admin.get_by_label("State").select_option("used")
            admin.locator("form.filters").get_by_role("button", name="Show").click()
            admin.wait_for_url(re.compile(r"state=used"))
            expect(count).to_contain_text("0 of 3 codes")
            expect(admin.locator("main")).to_contain_text("No codes match.")
            assert fits_width(admin)

            # An owner leads to the account's admin page.
            admin.goto(site.url("/codes/"))
            admin.get_by_role("link", name=LONG_LOGIN, exact=True).click()
            admin.wait_for_url(re.compile(rf"/users/{LONG_LOGIN}/@@admin$"))
        finally:
            ctx.close()


@WIDTHS
def test_the_timed_out_page_gives_sign_in_again_its_own_line(
    tmp_path, file_settings, chromium, viewport
):
    with served_site(tmp_path, file_settings, {}) as site:
        ctx = chromium.new_context(viewport=viewport)
        try:
            page = ctx.new_page()
            page.goto(site.url("/logged-out?timeout=1&next=%2Fusers%2Fbob%2F"))
            expect(page.locator("h1")).to_have_text("Your session timed out")
            button = page.get_by_role("link", name="Sign in again")
            expect(button).to_have_attribute(
                "href", re.compile(r"/login\?next=%2Fusers%2Fbob%2F$")
            )
            line = button.locator("xpath=..")
            # The whole line is the button: no words before or after it.
            assert " ".join(line.inner_text().split()) == "Sign in again"
            box = button.bounding_box()
            text = line.locator("xpath=preceding-sibling::p[1]").bounding_box()
            assert box is not None and text is not None
            assert box["y"] >= text["y"] + text["height"]
            # It starts its line, where the text above does.
            assert abs(box["x"] - text["x"]) <= 1
            assert fits_width(page)
        finally:
            ctx.close()
