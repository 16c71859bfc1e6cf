"""The admin users listing: columns, sorting, filters, searches, the bulk
form, and nobody but admins."""

from __future__ import annotations

from typing import Any

import pytest

from tests.accounts import add_user, browser, last_code, sign_in, with_root
from tests.functional.test_squatting import ADDRESS, enter_code, register

JSON = {"Accept": "application/json"}


@pytest.fixture
def settings(settings):
    return {**settings, "auth.two_step": "never"}


def set_state(app: Any, login: str, **fields: Any) -> None:
    """Change an account as an admin's action would, and reindex it as the
    action's event makes the catalog do."""

    def change(root: Any) -> None:
        users = root["users"]
        for name, value in fields.items():
            setattr(users[login], name, value)
        users.catalog.index(users[login])

    with_root(app, change, commit=True)


@pytest.fixture
def admin(app, clock) -> Any:
    """An admin, and accounts in every state: ``olga`` is disabled,
    ``pete`` must reset, ``quin`` has not confirmed, ``rita`` is a second
    admin; ``sam`` and ``rita`` have signed in."""
    add_user(app, "root", roles=("user", "admin"))
    for login in ("olga", "pete", "quin", "rita", "sam", "samuel"):
        clock.advance(minutes=1)
        roles = ("user", "admin") if login == "rita" else ("user",)
        add_user(app, login, roles=roles, confirmed=login != "quin")
    clock.advance(minutes=1)
    sign_in(browser(app), "sam", status=303)
    clock.advance(minutes=1)
    sign_in(browser(app), "rita", status=303)
    set_state(app, "olga", disabled=True)
    set_state(app, "pete", must_reset=True)
    clock.advance(minutes=1)
    admin = browser(app)
    sign_in(admin, "root", status=303)
    return admin


def logins(admin: Any, **params: str) -> list[str]:
    data = admin.get("/users/", params, headers=JSON).json
    return [item["login"] for item in data["items"]]


def test_the_listing_shows_every_column(admin):
    page = admin.get("/users/")
    assert "<h1>Users</h1>" in page.text
    assert "7 accounts" in page.text
    assert page.html.select_one("div.table-wrap table.listing") is not None
    headers = [th.get_text(" ", strip=True) for th in page.html.select("thead th")]
    assert headers == [
        "Select",
        "Login ▲",
        "Email",
        "Roles",
        "State",
        "Created",
        "Last sign-in",
    ]
    rows = {
        tr.select("td")[1].get_text(strip=True): [
            td.get_text(strip=True) for td in tr.select("td")[2:]
        ]
        for tr in page.html.select("tbody tr")
    }
    assert set(rows) == {"root", "olga", "pete", "quin", "rita", "sam", "samuel"}
    email, roles, state, created, last = rows["rita"]
    assert (email, roles, state) == ("rita@example.org", "user, admin", "active")
    assert created.endswith(" UTC") and last.endswith(" UTC")
    assert rows["olga"][1:3] == ["user", "disabled"]
    assert rows["pete"][2] == "must-reset"
    assert rows["quin"][2] == "unconfirmed"
    assert rows["quin"][4] == "never"
    link = page.html.select_one("tbody tr td a")
    assert link["href"] == "http://example.com/users/olga/@@admin"
    # The addresses are decrypted for the page; the database holds none.
    assert "olga@example.org" in page.text


def test_the_json_listing_has_the_same_columns(admin):
    data = admin.get("/users/", {"limit": "2"}, headers=JSON).json
    assert (data["type"], data["name"], data["length"]) == ("users", "users", 7)
    assert data["order_by"] == "login"
    first = data["items"][0]
    assert first["login"] == first["name"] == "olga"
    assert first["url"] == "http://example.com/users/olga/"
    assert first["admin_url"] == "http://example.com/users/olga/@@admin"
    assert (first["email"], first["roles"], first["state"]) == (
        "olga@example.org",
        ["user"],
        "disabled",
    )
    assert first["created"].endswith("Z") and first["last_sign_in"] is None
    assert {k: data[k] for k in ("state", "role", "login", "email")} == dict.fromkeys(
        ("state", "role", "login", "email")
    )


def test_sorted_by_each_column_both_ways(admin):
    assert logins(admin) == ["olga", "pete", "quin", "rita", "root", "sam", "samuel"]
    assert logins(admin, order_by="-login")[0] == "samuel"
    assert logins(admin, order_by="-created") == [
        "samuel",
        "sam",
        "rita",
        "quin",
        "pete",
        "olga",
        "root",
    ]
    assert logins(admin, order_by="created")[0] == "root"
    # The admin's own sign-in is the newest; accounts never signed in are
    # the oldest.
    assert logins(admin, order_by="-last_sign_in")[:3] == ["root", "rita", "sam"]
    assert logins(admin, order_by="last_sign_in")[-3:] == ["sam", "rita", "root"]
    page = admin.get("/users/?order_by=-created")
    created = page.html.select("thead th")[5]
    assert created["aria-sort"] == "descending"
    assert created.a["href"].endswith("order_by=created")
    assert page.html.select("thead th")[6].a["href"].endswith("order_by=-last_sign_in")


def test_filters_by_state_and_role(admin):
    assert logins(admin, state="active") == ["rita", "root", "sam", "samuel"]
    assert logins(admin, state="disabled") == ["olga"]
    assert logins(admin, state="must-reset") == ["pete"]
    assert logins(admin, state="unconfirmed") == ["quin"]
    assert logins(admin, role="admin") == ["rita", "root"]
    assert logins(admin, role="admin", state="active", order_by="-last_sign_in") == [
        "root",
        "rita",
    ]
    assert logins(admin, role="admin", state="disabled") == []
    data = admin.get("/users/", {"state": "active", "role": ""}, headers=JSON).json
    assert (data["length"], data["state"], data["role"]) == (4, "active", None)
    page = admin.get("/users/?state=disabled&role=user")
    assert "1 account" in page.text
    assert '<option value="disabled" selected="selected">disabled</option>' in page.text
    assert '<option value="user" selected="selected">user</option>' in page.text
    assert "No accounts match." in admin.get("/users/?state=disabled&role=admin").text


def test_search_by_login_prefix(admin):
    assert logins(admin, login="sam") == ["sam", "samuel"]
    assert logins(admin, login="SAM", order_by="-login") == ["samuel", "sam"]
    assert logins(admin, login="sam", state="active", limit="1") == ["sam"]
    assert logins(admin, login="x") == []
    data = admin.get("/users/", {"login": "r"}, headers=JSON).json
    assert data["length"] is None and data["login"] == "r"
    page = admin.get("/users/?login=sam")
    assert "Accounts whose login starts with “sam”" in page.text
    assert 'name="login" value="sam"' in page.text
    # In a login search the time columns are not links: those orders would
    # have to skip every account without the prefix.
    assert [th.a is not None for th in page.html.select("thead th")[5:]] == [
        False,
        False,
    ]
    data = admin.get(
        "/users/", {"login": "s", "order_by": "-created"}, headers=JSON, status=400
    ).json
    assert data["parameter"] == "order_by"
    assert data["allowed"] == "login or -login when searching by login"


def test_search_by_exact_email(admin):
    assert logins(admin, email="pete@example.org") == ["pete"]
    assert logins(admin, email="PETE@Example.org", order_by="-created") == ["pete"]
    assert logins(admin, email="pete@example.org", state="must-reset") == ["pete"]
    assert logins(admin, email="pete@example.org", state="active") == []
    assert logins(admin, email="pete@example.org", role="admin") == []
    assert logins(admin, email="pete@example.org", login="sa") == []
    assert logins(admin, email="nobody@example.org") == []
    data = admin.get("/users/", {"email": "rita@example.org"}, headers=JSON).json
    assert (data["length"], data["next_cursor"]) == (1, None)
    page = admin.get("/users/?email=rita@example.org")
    assert page.html.select_one('input[name="email"]')["value"] == "rita@example.org"


def test_search_by_email_finds_the_accounts_that_have_not_confirmed_it(
    app, admin, clock, maildir
):
    # Two accounts registered themselves with one address; neither proved
    # it, so neither holds it yet.
    register(browser(app), "mallory")
    clock.advance(minutes=1)
    owner = browser(app)
    register(owner, "ada")
    page = admin.get("/users/", {"email": ADDRESS})
    assert "2 accounts" in page.text
    rows = {
        tr.select("td")[1].get_text(strip=True): tr.select("td")[4].get_text()
        for tr in page.html.select("tbody tr")
    }
    assert rows == {"ada": "unconfirmed", "mallory": "unconfirmed"}
    # The owner confirms: the holder, and the one still waiting.
    enter_code(owner, last_code(maildir))
    assert logins(admin, email=ADDRESS) == ["ada", "mallory"]
    assert logins(admin, email=ADDRESS, state="unconfirmed") == ["mallory"]
    assert logins(admin, email=ADDRESS, login="m") == ["mallory"]
    data = admin.get("/users/", {"email": ADDRESS}, headers=JSON).json
    assert (data["length"], data["next_cursor"]) == (2, None)
    # Sorted and paged as any listing is (mallory registered first).
    assert logins(admin, email=ADDRESS, order_by="-login") == ["mallory", "ada"]
    assert logins(admin, email=ADDRESS, order_by="created") == ["mallory", "ada"]
    assert logins(admin, email=ADDRESS, order_by="-created") == ["ada", "mallory"]
    assert logins(admin, email=ADDRESS, start="b") == ["mallory"]
    first = {"email": ADDRESS, "order_by": "-login", "limit": "1"}
    data = admin.get("/users/", first, headers=JSON).json
    assert [item["login"] for item in data["items"]] == ["mallory"]
    assert data["length"] == 2
    rest = {"email": ADDRESS, "cursor": data["next_cursor"], "limit": "1"}
    data = admin.get("/users/", rest, headers=JSON).json
    assert ([item["login"] for item in data["items"]], data["next_cursor"]) == (
        ["ada"],
        None,
    )
    # A day on, the other has expired: registering its name sweeps it.
    clock.advance(hours=24)
    register(browser(app), "mallory", "mallory@example.org")
    admin = browser(app)
    sign_in(admin, "root", status=303)
    assert logins(admin, email=ADDRESS) == ["ada"]
    assert logins(admin, email="mallory@example.org") == ["mallory"]


def test_start_at_a_login_or_a_date(admin):
    assert logins(admin, start="R") == ["rita", "root", "sam", "samuel"]
    assert logins(admin, start="r", order_by="-login") == [
        "root",
        "rita",
        "quin",
        "pete",
        "olga",
    ]
    assert logins(admin, start="2000-01-01", order_by="created")[0] == "root"
    assert logins(admin, start="2000-01-01", order_by="-created") == []
    # Accounts never signed in come last, newest sign-in first.
    assert logins(
        admin, start="2000-01-01T00:00:00+02:00", order_by="-last_sign_in"
    ) == ["samuel", "quin", "pete", "olga"]


@pytest.mark.parametrize(
    ("params", "named"),
    [
        ({"state": "asleep"}, "state"),
        ({"state": "Active"}, "state"),
        ({"role": "owner"}, "role"),
        ({"login": "a b"}, "login"),
        ({"login": "x" * 33}, "login"),
        ({"email": "not-an-address"}, "email"),
        ({"start": "!"}, "start"),
        ({"start": "tomorrow", "order_by": "created"}, "start"),
        ({"order_by": "email"}, "order_by"),
        ({"page": "2"}, "page"),
    ],
)
def test_bad_filters_are_a_400_naming_them(admin, params, named):
    data = admin.get("/users/", params, headers=JSON, status=400).json
    assert data["parameter"] == named
    page = admin.get("/users/", params, status=400)
    assert f"Bad query parameters: {named}:" in page.text
    assert 'class="site-header"' in page.text


def test_the_bulk_form_and_the_links(admin):
    page = admin.get("/users/?state=active")
    form = page.html.select_one("form#bulk-form")
    assert form["method"] == "post"
    assert form["action"] == "http://example.com/users/@@bulk"
    assert form.select_one('input[name="csrf_token"]')["value"]
    boxes = form.select('input[type="checkbox"][name="login"]')
    assert [b["value"] for b in boxes] == ["rita", "root", "sam", "samuel"]
    assert all(b["aria-label"].startswith("Select ") for b in boxes)
    actions = [o["value"] for o in form.select('select[name="action"] option')]
    assert actions == ["disable", "enable", "force-reset", "end-sessions"]
    reason = form.select_one('input[name="reason"]')
    assert reason.has_attr("required") and reason.find_parent("label") is not None
    assert form.select_one('button[type="submit"]') is not None
    assert page.html.find("a", string="Add a user")["href"] == (
        "http://example.com/users/@@create"
    )
    assert page.html.find("a", string="Import / export")["href"] == (
        "http://example.com/users/@@import"
    )
    # Every filter field has a label.
    filters = page.html.select_one("form.filters")
    assert filters["method"] == "get"
    for field in filters.select("select, input:not([type=hidden])"):
        assert field.find_parent("label") is not None, field


def test_pages_of_the_listing_by_cursor(admin):
    page = admin.get("/users/?limit=3&state=active")
    seen = [tr.select("td a")[0].text for tr in page.html.select("tbody tr")]
    while (nxt := page.html.select_one('a[rel="next"]')) is not None:
        assert "state=active" in nxt["href"]
        page = admin.get(nxt["href"].replace("http://example.com", ""))
        seen += [tr.select("td a")[0].text for tr in page.html.select("tbody tr")]
    assert seen == ["rita", "root", "sam", "samuel"]
    first = page.html.find("a", string="First page")["href"]
    assert first == "http://example.com/users/?state=active&limit=3&order_by=login"


def test_a_sign_in_moves_the_account_in_the_listing(app, admin, clock):
    clock.advance(minutes=5)
    sign_in(browser(app), "samuel", status=303)
    assert logins(admin, order_by="-last_sign_in", limit="1") == ["samuel"]


def test_non_admins_are_refused(app, admin):
    user = browser(app)
    sign_in(user, "sam", status=303)
    data = user.get("/users/", headers=JSON, status=403).json
    assert data["status"] == 403
    page = user.get("/users/?state=active", status=403)
    assert "sam@example.org" not in page.text
    anonymous = browser(app)
    assert anonymous.get("/users/", status=303).location.startswith(
        "http://example.com/login?next="
    )
    assert anonymous.get("/users/", headers=JSON, status=401).json["status"] == 401
