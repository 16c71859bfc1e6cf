"""What a signed-in visitor's requests write: reading and scoring write
nothing, and the session's activity clock moves at most once a minute."""

from __future__ import annotations

import pytest

from tests.accounts import add_user, sign_in

JSON = {"Accept": "application/json"}


@pytest.fixture
def settings(settings):
    # Signing in without a code; two-step sign-in has its own tests.
    return {**settings, "auth.two_step": "never"}


def test_reading_and_the_strength_meter_commit_nothing(app, testapp, db, clock):
    add_user(app, "ada")
    sign_in(testapp, "ada", status=303)
    clock.advance(minutes=5)
    token = testapp.get("/users/ada/").html.body["data-csrf-token"]
    before = db.lastTransaction()
    testapp.get("/users/ada/")
    testapp.get("/users/ada/", headers=JSON)
    testapp.get("/")
    score = testapp.post_json(
        "/password-strength",
        {"password": "violet harbour lantern"},
        headers={"X-CSRF-Token": token},
    ).json
    assert "score" in score
    assert db.lastTransaction() == before
    # A real form, or the ping, is activity: after a minute it counts.
    testapp.post("/ping", headers={"X-CSRF-Token": token, **JSON})
    assert db.lastTransaction() != before


def test_the_activity_clock_moves_at_most_once_a_minute(app, testapp, db, clock):
    add_user(app, "ada")
    sign_in(testapp, "ada", status=303)
    token = testapp.get("/users/ada/").html.body["data-csrf-token"]
    ping = {"headers": {"X-CSRF-Token": token, **JSON}}
    clock.advance(seconds=61)
    first = testapp.post("/ping", **ping).json["expires_in"]
    written = db.lastTransaction()
    clock.advance(seconds=30)
    assert testapp.post("/ping", **ping).json["expires_in"] == first - 30
    assert db.lastTransaction() == written
    clock.advance(seconds=30)
    assert testapp.post("/ping", **ping).json["expires_in"] == first
    assert db.lastTransaction() != written
