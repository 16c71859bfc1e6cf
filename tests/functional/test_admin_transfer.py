"""Importing accounts (with the password hashes of other systems) and
exporting them, from the browser; imported hashes sign in and are upgraded."""

from __future__ import annotations

import base64
import hashlib
import inspect
from urllib.parse import unquote

import argon2
import bcrypt
import pytest

from tests.accounts import (
    PASSWORD,
    add_user,
    admin_browser,
    browser,
    service,
    sign_in,
    with_root,
)
from wingapp.admin import transfer_views
from wingapp.interfaces import IKeyring
from wingapp.users.interfaces import IPasswordHasher
from wingapp.users.passwords import _ab64_encode

HEADER = "login,email,roles,password_hash,confirmed\n"


@pytest.fixture
def settings(settings):
    return {**settings, "auth.two_step": "never"}


@pytest.fixture
def admin(app):
    return admin_browser(app)


def passlib_pbkdf2(password: str) -> str:
    salt = b"sixteen byte salt"[:16]
    digest = hashlib.pbkdf2_hmac("sha512", password.encode(), salt, 29000)
    return f"$pbkdf2-sha512$29000${_ab64_encode(salt)}${_ab64_encode(digest)}"


HASHES = {
    "argon2id-other-parameters": lambda p: argon2.PasswordHasher(
        time_cost=1, memory_cost=8192, parallelism=2
    ).hash(p),
    "argon2i": lambda p: argon2.PasswordHasher(
        time_cost=1, memory_cost=8192, parallelism=1, type=argon2.Type.I
    ).hash(p),
    "pbkdf2-sha512": passlib_pbkdf2,
    "bcrypt-2b": lambda p: bcrypt.hashpw(p.encode(), bcrypt.gensalt(4)).decode(),
    "bcrypt-2y": lambda p: (
        "$2y$" + bcrypt.hashpw(p.encode(), bcrypt.gensalt(4))[4:].decode()
    ),
}


def upload(client, text: str, status: int = 200, name: str = "users.csv", **fields):
    form = client.get("/users/@@import").forms["import-form"]
    form["reason"] = fields.pop("reason", "moving from the old site")
    for key, value in fields.items():
        form[key] = value
    if text is not None:
        content = text if isinstance(text, bytes) else text.encode("utf-8")
        form["file"] = (name, content, "text/csv")
    return form.submit(status=status)


def summary(page) -> str:
    return " ".join(page.html.find(id="import-summary").text.split())


def result_csv(page) -> str:
    href = page.html.find(id="import-result")["href"]
    prefix = "data:text/csv;charset=utf-8;base64,"
    assert href.startswith(prefix)
    return base64.b64decode(unquote(href[len(prefix) :])).decode("utf-8")


@pytest.mark.parametrize("kind", sorted(HASHES))
def test_an_imported_hash_signs_in_and_is_upgraded(app, admin, kind):
    stored = HASHES[kind](PASSWORD)
    page = upload(admin, HEADER + f'carol,carol@example.org,user,"{stored}",true\n')
    assert "Created: 1 " in summary(page)
    hasher = service(app.registry, IPasswordHasher)

    def current_hash(root):
        return root["users"]["carol"].password_hash

    assert with_root(app, current_hash) == stored
    carol = browser(app, ip="198.51.100.7")
    sign_in(carol, "carol", "not the password at all", status=400)
    assert with_root(app, current_hash) == stored
    sign_in(carol, "carol", status=303)
    upgraded = with_root(app, current_hash)
    assert upgraded.startswith("$argon2id$")
    assert not hasher.needs_rehash(upgraded)
    assert hasher.verify(upgraded, PASSWORD)


def test_import_page_shows_the_summary_and_a_result_to_download(app, admin, maildir):
    page = upload(
        admin,
        HEADER
        + "alice,alice@example.org,user admin,,true\n"
        + "x,x@example.org,,,\n"
        + "alice,alice2@example.org,,,\n"
        + "bob,bob@example.org,,$sha1$abc,\n",
    )
    assert page.status_int == 200
    assert summary(page) == "Created: 1 Updated: 0 Unchanged: 0 Rejected: 3"
    rejected = page.html.find(id="import-rejected").text
    assert "A login name has 3 to 32" in rejected
    assert "The login 'alice' is on line 2 too." in rejected
    assert "not in a form we accept" in rejected
    assert result_csv(page).splitlines() == [
        "line,login,outcome,reason",
        "2,alice,created,",
        "3,x,rejected,A login name has 3 to 32 letters, digits, dots, dashes or "
        "underscores, and starts and ends with a letter or digit.".replace(
            "A login", '"A login'
        )
        + '"',
        "4,alice,rejected,The login 'alice' is on line 2 too.",
        "5,bob,rejected,"
        + '"The password hash is not in a form we accept: argon2 ($argon2id$...), '
        "PBKDF2-SHA512 in passlib's form ($pbkdf2-sha512$...) or bcrypt ($2b$...).\"",
    ]

    def alice(root):
        user = root["users"]["alice"]
        return user.roles, user.must_reset, user.password_hash, user.state

    # Without a hash, the account is entered through a reset code only.
    assert with_root(app, alice) == (("user", "admin"), True, "", "must-reset")

    def history(root):
        return [
            (e.kind, e.actor, e.detail.get("reason")) for e in root.audit.newest(50)
        ]

    assert ("admin-import", "root", "moving from the old site") in with_root(
        app, history
    )


def test_many_rejected_rows_are_shown_in_part(app, admin, monkeypatch):
    monkeypatch.setattr(transfer_views, "SHOWN_REJECTIONS", 2)
    page = upload(admin, HEADER + "".join(f"u{i},bad,,,\n" for i in range(3)))
    assert "The first 2 of 3; the result CSV has them all." in " ".join(
        page.text.split()
    )
    assert len(page.html.find(id="import-rejected").find_all("tr")) == 1 + 2
    assert len(result_csv(page).splitlines()) == 1 + 3


def test_dry_run_in_the_browser_writes_nothing(app, admin):
    page = upload(admin, HEADER + "alice,alice@example.org,,,\n", dry_run=True)
    assert "(dry run)" in page.text
    assert "Created: 1 " in summary(page)
    assert not with_root(app, lambda root: "alice" in root["users"])


def test_update_from_the_browser_leaves_the_password(app, admin):
    add_user(app, "bob", "bob@example.org")
    old = with_root(app, lambda root: root["users"]["bob"].password_hash)
    page = upload(admin, HEADER + "bob,bob@example.org,user admin,,true\n", update=True)
    assert "Updated: 1 " in summary(page)

    def bob(root):
        return root["users"]["bob"].roles, root["users"]["bob"].password_hash

    assert with_root(app, bob) == (("user", "admin"), old)


@pytest.mark.parametrize(
    ("content", "fields", "field", "message"),
    [
        (None, {}, "file", "Choose a CSV file to import."),
        (b"login,email\n\xff\xfe,x\n", {}, "file", "This file is not UTF-8 text."),
        (b"login,email\x00\n", {}, "file", "This is not a CSV text file."),
        (b"name;mail\n", {}, "file", "Unknown column 'name;mail'"),
        (b"", {}, "file", "The file is empty."),
        (HEADER.encode(), {"reason": ""}, "reason", "Give a reason"),
        (HEADER.encode(), {"reason": "ok"}, "reason", "Give a reason of 3 to 200"),
    ],
)
def test_a_bad_upload_is_refused_beside_its_field(
    app, admin, content, fields, field, message
):
    page = upload(admin, content, status=400, **fields)
    assert "Please correct the marked fields." in page.text
    error = page.html.find(id=f"import-{field}").find_next_sibling(class_="field-error")
    assert message in error.text
    assert page.html.find(id=f"import-{field}")["aria-invalid"] == "true"


def test_a_file_too_big_is_refused(app, admin, monkeypatch):
    monkeypatch.setattr(transfer_views, "MAX_UPLOAD_BYTES", 10)
    page = upload(admin, HEADER, status=400)
    assert "The file is larger than 0 MB" in page.text


def test_a_path_as_file_name_is_cut_to_the_name(app, admin):
    upload(admin, HEADER + "alice,alice@example.org,,,\n", name="C:\\Users\\me\\a.csv")

    def source(root):
        (entry,) = [e for e in root.audit.newest(50) if e.kind == "admin-import"]
        return entry.detail["source"]

    assert with_root(app, source) == "a.csv, line 2"


def test_the_form_is_for_admins_only(app, admin):
    add_user(app, "bob")
    bob = browser(app)
    sign_in(bob, "bob", status=303)
    bob.get("/users/@@import", status=403)
    bob.get("/users/@@export.csv", status=403)
    anonymous = browser(app)
    assert anonymous.get("/users/@@export.csv", status=303).location.startswith(
        "http://example.com/login"
    )


def test_export_streams_every_account_without_secrets(app, admin):
    for i in range(3):
        add_user(app, f"user{i}", f"user{i}@example.org")
    response = admin.get("/users/@@export.csv")
    assert response.content_type == "text/csv"
    assert response.headers["Content-Disposition"] == 'attachment; filename="users.csv"'
    lines = response.text.splitlines()
    assert lines[0] == "login,email,roles,state,confirmed,created,last_sign_in"
    assert [line.split(",")[0] for line in lines[1:]] == [
        "root",
        "user0",
        "user1",
        "user2",
    ]
    assert lines[1].startswith("root,root@example.org,user admin,active,true,")
    assert "$argon2" not in response.text


def test_the_export_streams_from_a_connection_of_its_own(app, db):
    add_user(app, "alice")
    oid = with_root(app, lambda root: root["users"]._p_oid)

    def opened():
        return sum(info["opened"] is not None for info in db.connectionDebugInfo())

    stream = transfer_views.stream_users(db, oid, service(app.registry, IKeyring))
    # Nothing is read until the server asks for the body.
    assert inspect.isgenerator(stream)
    assert opened() == 0
    assert next(stream).startswith(b"login,email,")
    assert opened() == 1
    assert next(stream).startswith(b"alice,alice@example.org,")
    # A client that goes away: closing the body lets go of the connection.
    stream.close()
    assert opened() == 0


def test_the_import_form_links_the_export(admin):
    page = admin.get("/users/@@import")
    assert page.html.find("a", href="http://example.com/users/@@export.csv")
    assert page.html.find("label", attrs={"for": "import-file"})
