"""The listing protocol, probed as an API's functional tests would: every
parameter missing, at its lowest, at its highest, one beyond, of the
wrong type; unknown parameters; garbled cursors; every order both ways;
and cursors that reach every item exactly once. For a generic folder
(a folder of things), the codes and the users."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from typing import Any

import pytest

from tests.accounts import add_user, browser, service, sign_in, with_root
from wingapp.codes.services import CodeService
from wingapp.folder import Folder
from wingapp.interfaces import IKeyring

JSON = {"Accept": "application/json"}


@pytest.fixture
def settings(settings):
    return {**settings, "auth.two_step": "never"}


@pytest.fixture
def admin(app, clock) -> Any:
    """An admin's browser, and something in every container: 9 things,
    9 codes and 9 accounts made at different times, 4 of which signed in
    (two at the same moment)."""
    add_user(app, "root", roles=("user", "admin"))
    for i, login in enumerate(
        ("mona", "abel", "zoe", "kai", "luna", "max", "ida", "bob")
    ):
        clock.advance(minutes=1 + i % 3)
        add_user(app, login)
    for login in ("abel", "kai"):
        sign_in(browser(app), login, status=303)
    clock.advance(minutes=5)
    for login in ("zoe", "bob"):
        sign_in(browser(app), login, status=303)

    def fill(root: Any) -> None:
        # The reports have a listing of their own: a plain folder of
        # folders stands for any container.
        things = root.add("things", Folder(title="Things"))
        for name in ("b", "a", "Z", "a-b", "ab", "a.", "c1", "c10", "c2"):
            things.add(name, Folder(title=name))
        codes = CodeService(root["codes"], service(app.registry, IKeyring), clock)
        for i in range(9):
            clock.advance(seconds=1 + i % 2)
            codes.issue("sign-in" if i % 2 else "reset-password", f"owner{i}", "f")

    with_root(app, fill, commit=True)
    clock.advance(minutes=1)
    admin = browser(app)
    sign_in(admin, "root", status=303)
    return admin


def by_name(item: dict) -> Any:
    return item["name"]


def by_time(field: str) -> Any:
    # ISO times in one format sort as text; never signed in is oldest.
    return lambda item: (item[field] or "", item["name"])


LISTINGS = {
    "folder": ("/things/", {"name": by_name}, "name"),
    "codes": ("/codes/", {"expires": by_time("expires")}, "-expires"),
    "users": (
        "/users/",
        {
            "login": by_name,
            "created": by_time("created"),
            "last_sign_in": by_time("last_sign_in"),
        },
        "login",
    ),
}
KINDS = sorted(LISTINGS)


def orders(kind: str) -> Iterator[tuple[str, Any, bool]]:
    for key, sort_key in LISTINGS[kind][1].items():
        yield key, sort_key, False
        yield f"-{key}", sort_key, True


def everything(admin: Any, kind: str) -> list[dict]:
    return admin.get(LISTINGS[kind][0], {"limit": "500"}, headers=JSON).json["items"]


def refused(admin: Any, kind: str, params: Any, parameter: str) -> dict:
    """The JSON of a 400 that names ``parameter``."""
    data = admin.get(LISTINGS[kind][0], params, headers=JSON, status=400).json
    assert data["status"] == 400
    assert data["parameter"] == parameter, data
    assert data["allowed"]
    assert data["message"].startswith(f"Bad query parameters: {parameter}: ")
    return data


@pytest.mark.parametrize("kind", KINDS)
def test_limit_missing_lowest_highest_and_empty(admin, kind):
    path, _, default = LISTINGS[kind]
    data = admin.get(path, headers=JSON).json
    assert (data["limit"], data["order_by"], data["next_cursor"]) == (50, default, None)
    assert len(data["items"]) == 9
    assert data["length"] == 9
    assert set(data) >= {"type", "name", "title", "url", "items", "limit"}
    one = admin.get(path, {"limit": "1"}, headers=JSON).json
    assert len(one["items"]) == 1 and one["next_cursor"] is not None
    assert one["items"][0] == data["items"][0]
    assert admin.get(path, {"limit": "500"}, headers=JSON).json["limit"] == 500
    # An empty value is the default, as a form's empty field sends.
    assert admin.get(path, {"limit": ""}, headers=JSON).json["limit"] == 50


@pytest.mark.parametrize("kind", KINDS)
def test_limit_out_of_range_or_not_an_integer(admin, kind):
    for value in ("0", "501", "-1", "x", "1.5", "1e2", " 5x"):
        data = refused(admin, kind, {"limit": value}, "limit")
        assert data["allowed"] == "an integer from 1 to 500"


@pytest.mark.parametrize("kind", KINDS)
def test_every_order_both_ways(admin, kind):
    items = everything(admin, kind)
    for order_by, sort_key, descending in orders(kind):
        data = admin.get(LISTINGS[kind][0], {"order_by": order_by}, headers=JSON).json
        assert data["order_by"] == order_by
        want = sorted(items, key=sort_key, reverse=descending)
        assert [i["name"] for i in data["items"]] == [i["name"] for i in want], order_by


@pytest.mark.parametrize("kind", KINDS)
def test_an_order_not_offered_is_refused(admin, kind):
    for value in ("nope", "--name", "", "-", "+name", "name,"):
        data = refused(admin, kind, {"order_by": value}, "order_by")
        for key in LISTINGS[kind][1]:
            assert f"{key}, -{key}" in data["allowed"]


@pytest.mark.parametrize("kind", KINDS)
def test_cursors_reach_every_item_exactly_once(admin, kind):
    path = LISTINGS[kind][0]
    items = everything(admin, kind)
    for limit in (1, 2, 4):
        reach_every_item(admin, path, items, limit, kind)


def reach_every_item(admin: Any, path: str, items: list, limit: int, kind: str) -> None:
    for order_by, sort_key, descending in orders(kind):
        want = [i["name"] for i in sorted(items, key=sort_key, reverse=descending)]
        seen, params, pages = [], {"limit": str(limit), "order_by": order_by}, 0
        while True:
            data = admin.get(path, params, headers=JSON).json
            assert data["order_by"] == order_by
            seen += [i["name"] for i in data["items"]]
            pages += 1
            if data["next_cursor"] is None:
                break
            assert len(data["items"]) == limit
            # The cursor carries the order: it need not be repeated.
            params = {"limit": str(limit), "cursor": data["next_cursor"]}
        assert seen == want, order_by
        assert pages == -(-len(want) // limit)


def tampered(cursor: str) -> str:
    payload, signature = cursor.split(".")
    data = base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))
    other = data.replace(b"1", b"2") if b"1" in data else data + b" "
    changed = base64.urlsafe_b64encode(other).decode().rstrip("=")
    return f"{changed}.{signature}"


@pytest.mark.parametrize("kind", KINDS)
def test_a_garbled_altered_or_foreign_cursor_is_refused(admin, kind):
    path, _, default = LISTINGS[kind]
    cursor = admin.get(path, {"limit": "1"}, headers=JSON).json["next_cursor"]
    for bad in (
        "",
        "garbage",
        "a.b.c",
        "!!!",
        cursor[:-1],
        cursor + "0",
        tampered(cursor),
    ):
        data = refused(admin, kind, {"cursor": bad}, "cursor")
        assert "next_cursor" in data["allowed"]
    # A cursor of another listing.
    other = "/users/" if kind != "users" else "/things/"
    foreign = admin.get(other, {"limit": "1"}, headers=JSON).json["next_cursor"]
    refused(admin, kind, {"cursor": foreign}, "cursor")
    # A cursor continues its own order only.
    (key, _, _), (reverse, _, _) = list(orders(kind))[:2]
    other_order = reverse if default == key else key
    data = refused(admin, kind, {"cursor": cursor, "order_by": other_order}, "cursor")
    assert f"order_by={default}" in data["message"]
    assert admin.get(path, {"cursor": cursor, "order_by": default}, headers=JSON).json[
        "items"
    ]
    # A cursor and a start do not go together.
    first = next(iter(LISTINGS[kind][1]))
    start = "a" if first in ("name", "login") else "2026-01-01"
    refused(admin, kind, {"cursor": cursor, "start": start}, "start")


@pytest.mark.parametrize("kind", KINDS)
def test_an_unknown_or_repeated_parameter_is_refused(admin, kind):
    for name in ("page", "size", "sort", "offset", "bogus", "LIMIT"):
        data = refused(admin, kind, {name: "1"}, name)
        assert "unknown parameter" in data["message"]
        assert "limit" in data["allowed"] and "cursor" in data["allowed"]
    data = refused(admin, kind, [("limit", "1"), ("limit", "2")], "limit")
    assert "more than once" in data["message"]


def test_start_in_a_folder_is_a_name_prefix(admin):
    names = [i["name"] for i in everything(admin, "folder")]
    assert names == ["Z", "a", "a-b", "a.", "ab", "b", "c1", "c10", "c2"]

    def listed(**params: str) -> list[str]:
        data = admin.get("/things/", params, headers=JSON).json
        return [i["name"] for i in data["items"]]

    assert listed(start="a.") == ["a.", "ab", "b", "c1", "c10", "c2"]
    assert listed(start="c", limit="2") == ["c1", "c10"]
    assert listed(start="a", order_by="-name") == ["ab", "a.", "a-b", "a", "Z"]
    assert listed(start="d") == []
    refused(admin, "folder", {"start": ""}, "start")
    refused(admin, "folder", {"start": "x" * 256}, "start")


def test_start_in_the_codes_is_a_moment(admin):
    items = everything(admin, "codes")
    middle = items[4]["expires"]

    def listed(**params: str) -> list[str]:
        data = admin.get("/codes/", params, headers=JSON).json
        return [i["name"] for i in data["items"]]

    names = [i["name"] for i in items]
    # Newest first, from a moment: what expires at or before it.
    assert listed(start=middle) == names[4:]
    assert listed(start=middle, order_by="expires") == names[4::-1]
    assert listed(start="2000-01-01") == []
    assert listed(start="2000-01-01", order_by="expires") == names[::-1]
    data = refused(admin, "codes", {"start": "yesterday"}, "start")
    assert "ISO date" in data["allowed"]


def test_a_bad_parameter_in_a_browser_shows_in_the_layout(admin):
    page = admin.get("/things/?limit=9000", status=400)
    assert 'class="site-header"' in page.text
    assert "Bad query parameters: limit: '9000' is not allowed." in page.text
    assert "an integer from 1 to 500" in page.text
    long = admin.get("/things/", {"bogus": "y" * 100, "start": "z" * 100}, status=400)
    assert "bogus" in long.text


def test_html_pages_link_to_the_next_and_the_first(admin):
    page = admin.get("/things/?limit=4")
    assert "First page" not in page.text
    names = [a.text for a in page.html.select("table.listing tbody a")]
    assert names == ["Z", "a", "a-b", "a."]
    seen = list(names)
    while page.html.select_one('a[rel="next"]') is not None:
        page = page.click(linkid=None, href="cursor=", index=0)
        seen += [a.text for a in page.html.select("table.listing tbody a")]
        first = page.html.find("a", string="First page")
        assert first["href"] == "http://example.com/things/?limit=4&order_by=name"
    assert seen == [i["name"] for i in everything(admin, "folder")]
    # The column header turns the order round.
    header = page.html.select_one("th a")
    assert header["href"].endswith("order_by=-name")
    assert page.html.select_one("th")["aria-sort"] == "ascending"


def test_html_codes_page_keeps_its_filters_across_pages(admin):
    page = admin.get("/codes/?limit=2&purpose=sign-in")
    assert page.text.count('<td data-label="Purpose">sign-in</td>') == 2
    assert "in all" not in page.text  # a filtered count is not known
    nxt = page.html.select_one('a[rel="next"]')["href"]
    assert "purpose=sign-in" in nxt and "limit=2" in nxt
    page = admin.get(nxt.replace("http://example.com", ""))
    assert page.text.count('<td data-label="Purpose">sign-in</td>') == 2
    assert page.html.find("a", string="First page") is not None
    assert "9 codes in all · newest first" in admin.get("/codes/").text
    oldest = admin.get("/codes/?order_by=expires")
    assert "oldest first" in oldest.text
    assert oldest.html.select_one("th[aria-sort]")["aria-sort"] == "ascending"
