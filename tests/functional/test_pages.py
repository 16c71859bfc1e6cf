"""The pages a person meets (issue 10): browsers by name, the codes
listing, sign-out and timed-out pages, and what JSON clients are told."""

from __future__ import annotations

import pytest

from tests.accounts import (
    NEW_PASSWORD,
    PASSWORD,
    add_user,
    admin_browser,
    body,
    browser,
    messages,
    service,
    sign_in,
    with_root,
)
from wingapp.codes.services import CodeService
from wingapp.interfaces import IKeyring
from wingapp.mail.templates import render_bodies

JSON = {"Accept": "application/json"}
CHROME = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/156.0.0.0 Safari/537.36"
)
FIREFOX = "Mozilla/5.0 (X11; Linux x86_64; rv:130.0) Gecko/20100101 Firefox/130.0"


@pytest.fixture
def settings(settings):
    # Sign-in codes have their own tests; here they would only be in the way.
    return {**settings, "auth.two_step": "never"}


def squeezed(text: str) -> str:
    return " ".join(text.split())


# Browsers by name, with the whole User-Agent in a title


def test_sessions_and_trusted_devices_name_the_browser(app, clock):
    add_user(app, "ada")
    chrome = browser(app, agent=CHROME)
    firefox = browser(app, ip="198.51.100.7", agent=FIREFOX)
    sign_in(chrome, "ada", status=303)
    clock.advance(minutes=1)
    sign_in(firefox, "ada", status=303)
    page = chrome.get("/users/ada/").html
    cells = page.select('table.stack td[data-label="Browser"] span')
    # Newest first: the Firefox session, then this one.
    assert [(c.text, c["title"]) for c in cells] == [
        ("Firefox 130 on Linux", FIREFOX),
        ("Chrome 156 on Linux", CHROME),
    ]
    devices = page.select("#devices + p + ul.trust li > span[title]")
    assert sorted((d.text, d["title"]) for d in devices) == [
        ("Chrome 156 on Linux", CHROME),
        ("Firefox 130 on Linux", FIREFOX),
    ]
    # The raw string is never shown alone, only in the title.
    assert CHROME not in page.get_text()
    data = chrome.get("/users/ada/", headers=JSON).json
    assert [s["browser_label"] for s in data["sessions"]] == [
        "Firefox 130 on Linux",
        "Chrome 156 on Linux",
    ]
    assert {d["browser_label"] for d in data["trusted_devices"]} == {
        "Firefox 130 on Linux",
        "Chrome 156 on Linux",
    }


def test_the_password_notice_names_the_browser_then_gives_its_words(
    app, clock, maildir
):
    add_user(app, "ada")
    chrome = browser(app, agent=CHROME)
    sign_in(chrome, "ada", status=303)
    form = chrome.get("/users/ada/password").forms["password-form"]
    form["current_password"] = PASSWORD
    form["password"] = form["password_confirm"] = NEW_PASSWORD
    form.submit(status=303)
    notice = messages(maildir)[-1]
    said = f"with the browser Chrome 156 on Linux ({CHROME})."
    assert said in squeezed(body(notice))
    assert said in squeezed(notice.get_body(("html",)).get_content())


@pytest.mark.parametrize("agent", [None, FIREFOX])
def test_the_code_mail_gives_the_browsers_words_after_its_name(agent):
    values = {
        "purpose": "sign-in",
        "when": "2026-03-01 12:00 UTC",
        "ip": "192.0.2.1",
        "browser": "Firefox 130 on Linux",
        "code": "123456",
        "lifetime": "10 minutes",
        "deny_url": None,
        "subject": "Your code",
    }
    if agent is not None:
        values["agent"] = agent
    text, html = render_bodies("code", values)
    line = "Firefox 130 on Linux" + ("" if agent is None else f" ({FIREFOX})")
    assert f"  Browser:    {line}\n" in text
    assert f"<td>{line}</td>" in html


# The codes listing


@pytest.fixture
def codes(app, clock):
    """Six codes: three reset codes (for bob, carol and "gone", whose
    account no longer exists) and three sign-in codes for bob, each cancelling the one
    before, the last one used."""
    add_user(app, "bob")
    add_user(app, "carol")

    def issue(root):
        keyring = service(app.registry, IKeyring)
        codes = CodeService(root["codes"], keyring, lambda: clock.now)
        for owner in ("bob", "carol", "gone"):
            clock.advance(seconds=1)
            codes.issue("reset-password", owner, "flow")
        for _ in range(3):
            clock.advance(minutes=2)
            code, plain = codes.issue("sign-in", "bob", "flow")
        codes.verify(code.__name__, "sign-in", "bob", "flow", plain)

    with_root(app, issue, commit=True)


def test_the_codes_listing_counts_what_a_filter_lets_through(app, codes):
    admin = admin_browser(app)
    page = admin.get("/codes/")
    assert "6 codes in all · newest first" in squeezed(
        page.html.select_one("#codes-count").text
    )
    page = admin.get("/codes/?purpose=reset-password")
    assert squeezed(page.html.select_one("#codes-count").text).startswith(
        "3 of 6 codes · newest first"
    )
    page = admin.get("/codes/?state=cancelled")
    assert squeezed(page.html.select_one("#codes-count").text).startswith(
        "2 of 6 codes"
    )
    # Past one page, only what this page holds is known.
    page = admin.get("/codes/?purpose=sign-in&limit=2")
    assert squeezed(page.html.select_one("#codes-count").text).startswith(
        "2 on this page, of 6 codes"
    )


def test_the_codes_listing_stacks_and_links_owners(app, codes):
    admin = admin_browser(app)
    page = admin.get("/codes/?purpose=reset-password").html
    table = page.select_one("table.listing")
    assert "stack" in table["class"]
    header = [th.text.split()[0] for th in table.select("thead th")]
    for row in table.select("tbody tr"):
        assert [td["data-label"].split()[0] for td in row.select("td")] == header
    owners = {
        td.text: td.a["href"] if td.a else None
        for td in table.select('td[data-label="Owner"]')
    }
    assert owners == {
        "bob": "http://example.com/users/bob/@@admin",
        "carol": "http://example.com/users/carol/@@admin",
        "gone": None,
    }
    selects = page.select("form.filters select")
    assert [s["name"] for s in selects] == ["state", "purpose"]
    # The order can be turned round without the table's header, which a
    # narrow screen hides.
    turn = page.select_one("#codes-count a")
    assert "order_by=expires" in turn["href"]
    assert turn.text == "show the oldest first"
    # A code's own page links its owner too, while the account exists.
    for row in table.select("tbody tr"):
        owner = row.select_one('td[data-label="Owner"]').text
        code = admin.get(row.select_one('td[data-label="Created"] a')["href"]).html
        shown = code.find("dt", string="Owner").find_next("dd")
        assert (shown.text, shown.a["href"] if shown.a else None) == (
            owner,
            owners[owner],
        )


# Sign-out and timed-out pages


def test_get_logout_offers_the_button_when_signed_in(app, testapp, clock):
    add_user(app, "ada")
    sign_in(testapp, "ada", status=303)
    page = testapp.get("/logout")
    assert page.status_int == 200
    assert "<title>Sign out · wingapp</title>" in page.text
    form = page.forms["logout-page-form"]
    assert form.method.upper() == "POST"
    assert form.action == "http://example.com/logout"
    assert form["csrf_token"].value
    assert "You are signed in as <strong>ada</strong>" in page.text
    done = form.submit(status=303)
    assert done.location == "http://example.com/logged-out"
    testapp.get("/users/ada/", status=303)


def test_get_logout_says_when_nobody_is_signed_in(testapp):
    page = testapp.get("/logout")
    assert page.status_int == 200
    main = page.html.select_one("main")
    assert main.h1.text == "You are not signed in"
    assert main.find("a", string="Sign in")["href"] == "http://example.com/login"
    assert "logout-page-form" not in page.forms


def test_the_timed_out_page_puts_sign_in_on_its_own_line(testapp):
    page = testapp.get("/logged-out?timeout=1&next=%2Fusers%2Fada%2F").html
    link = page.find("a", string="Sign in again")
    # The button is the whole of its paragraph, not a word in a sentence.
    assert link.parent.name == "p"
    assert squeezed(link.parent.text) == "Sign in again"
    assert "button" in link["class"]
    assert link["href"] == "http://example.com/login?next=%2Fusers%2Fada%2F"
    plain = testapp.get("/logged-out").html.find("a", string="Sign in again")
    assert squeezed(plain.parent.text) == "Sign in again"


# What JSON clients are told


@pytest.mark.parametrize(
    "path", ["/users/", "/codes/", "/reports/", "/users/bob/", "/users/bob/@@admin"]
)
def test_anonymous_json_requests_get_a_401(app, testapp, path):
    add_user(app, "bob")
    answer = testapp.get(path, headers=JSON, status=401)
    assert answer.content_type == "application/json"
    assert answer.json["status"] == 401
    assert answer.json["error"] == "Unauthorized"
    assert answer.json["message"].startswith("Sign in first")
    assert "WWW-Authenticate" not in answer.headers
    # A browser is still sent to sign in.
    assert testapp.get(path, status=303).location.startswith(
        "http://example.com/login?next="
    )


def test_signed_in_json_requests_without_permission_stay_403(app, clock):
    add_user(app, "bob")
    bob = browser(app)
    sign_in(bob, "bob", status=303)
    assert bob.get("/codes/", headers=JSON, status=403).json["status"] == 403


@pytest.mark.parametrize("name", ["users", "codes", "reports"])
def test_no_listing_claims_a_page_that_does_not_exist(app, name):
    admin = admin_browser(app)
    data = admin.get(f"/{name}/?page=999", headers=JSON, status=400).json
    assert (data["status"], data["parameter"]) == (400, "page")
    page = admin.get(f"/{name}/?page=999", status=400)
    assert "Bad query parameters: page: unknown parameter" in page.text
    # An error page, not a listing of a page that is not there.
    assert page.html.select_one("main table") is None


@pytest.mark.parametrize(
    "path", ["/login", "/register", "/users/alice/password", "/users/alice/email"]
)
def test_html_only_pages_answer_json_clients_406(app, clock, path):
    add_user(app, "alice")
    alice = browser(app)
    if path.startswith("/users/"):
        sign_in(alice, "alice", status=303)
    answer = alice.get(path, headers=JSON, status=406)
    assert answer.content_type == "application/json"
    assert answer.json == {
        "error": "Not acceptable",
        "status": 406,
        "message": "This page is offered only as text/html: ask for that in "
        "the Accept header.",
        "offers": ["text/html"],
    }
    # Browsers, and clients that take anything, still get the page.
    assert alice.get(path).content_type == "text/html"
    assert alice.get(path, headers={"Accept": "*/*"}).content_type == "text/html"


def test_json_pages_redirects_and_errors_are_left_alone(app, clock):
    add_user(app, "alice")
    alice = browser(app)
    sign_in(alice, "alice", status=303)
    assert alice.get("/users/alice/", headers=JSON).json["login"] == "alice"
    # Signed in, the sign-in page sends you on.
    assert alice.get("/login", headers=JSON, status=303).location == (
        "http://example.com/users/alice/"
    )
    assert alice.get("/nowhere", headers=JSON, status=404).json["status"] == 404
    # A stylesheet is not a page.
    assert alice.get("/static/css/wingapp.css", headers=JSON).content_type == (
        "text/css"
    )


def test_a_406_commits_nothing_the_page_did(app, clock):
    # An import answers with a page of results: asked for as JSON, the
    # client is told 406, and so no account may have been made.
    admin = admin_browser(app)
    form = admin.get("/users/@@import").forms["import-form"]
    form["reason"] = "moving from the old site"
    form["file"] = ("users.csv", b"login,email\nnewbie,newbie@example.org\n")
    assert form.submit(headers=JSON, status=406).json["offers"] == ["text/html"]
    assert not with_root(app, lambda root: "newbie" in root["users"])
    page = form.submit(status=200)
    assert "Created: 1" in squeezed(page.html.find(id="import-summary").text)
    assert with_root(app, lambda root: "newbie" in root["users"])


def test_the_own_page_links_its_pages_and_leaves_the_cookie_alone(app, clock):
    add_user(app, "ada")
    ada = browser(app)
    sign_in(ada, "ada", status=303).follow()
    response = ada.get("/users/ada/")
    # Reading a page changes nothing in the session: no cookie comes back.
    assert "Set-Cookie" not in response.headers
    page = response.html
    own = "http://example.com/users/ada/"
    links = {a["href"] for a in page.select("main a")}
    assert {own + "password", own + "email", own + "activity"} <= links
    actions = {form["action"] for form in page.select("main form")}
    assert own + "end-session" in actions
    assert all(action.startswith(own) for action in actions)
    assert page.select_one("a.account-link")["href"] == own
    timing = page.body
    assert timing["data-ping-url"] == "http://example.com/ping"
    assert timing["data-logout-url"] == "http://example.com/logout"
    assert timing["data-logged-out-url"] == "http://example.com/logged-out"
    tokens = {i["value"] for i in page.select("input[name=csrf_token]")}
    assert tokens == {timing["data-csrf-token"]}
