"""`wingapp CONFIG rotate-keys` against a FileStorage, then the site still works."""

from __future__ import annotations

import io

import webtest
from pyramid.paster import get_app

from tests.accounts import PASSWORD, sign_in, with_root
from wingapp.keys import load_keyring
from wingapp.scripts import cli


def run(*argv):
    out = io.StringIO()
    code = cli.main(
        list(argv), stdin=io.StringIO(PASSWORD + "\n"), stdout=out, stderr=io.StringIO()
    )
    return code, out.getvalue()


def test_rotation_reencrypts_everything_and_old_keys_can_retire(
    ini_file, key_paths, tmp_path
):
    ini = str(ini_file)
    ini_file.write_text(
        ini_file.read_text().replace(
            "[app:main]", "[app:main]\nauth.two_step = never", 1
        )
    )
    assert run(ini, "add-user", "ada", "--email", "ada@example.org")[0] == 0
    # A session, trusted places and audit entries, all with personal data.
    app = get_app(ini)
    environ = {
        "HTTP_HOST": "example.com",
        "REMOTE_ADDR": "192.0.2.1",
        "HTTP_USER_AGENT": "Agent/1",
    }
    sign_in(webtest.TestApp(app, extra_environ=environ), "ada", status=303)
    app.registry._zodb_databases[""].close()
    old_key = key_paths.encryption_keys.read_text().split()[0]

    code, out = run(ini, "rotate-keys", "--retire")
    assert code == 0
    # The sign-in recorded three events (device trusted, network trusted,
    # signed in), each with an IP address and a browser.
    assert "Re-encrypted 5 values in 1 accounts and 6 in 3 events." in out
    assert "Retired 1 old key(s)." in out
    keys = key_paths.encryption_keys.read_text().split()
    assert len(keys) == 1 and keys[0] != old_key

    app = get_app(ini)
    keyring = load_keyring(key_paths)

    def check(root):
        user = root["users"]["ada"]
        assert user.email(keyring) == "ada@example.org"
        (session,) = user.sessions.values()
        assert keyring.decrypt(session.ip_token)
        (entry,) = root.audit.newest(1)
        assert keyring.decrypt(entry.ip_token)

    with_root(app, check)
    # Running it again re-encrypts what the new key did not make.
    app.registry._zodb_databases[""].close()
    code, out = run(ini, "rotate-keys")
    # The sign-in recorded three events (device trusted, network trusted,
    # signed in), each with an IP address and a browser.
    assert "Re-encrypted 5 values in 1 accounts and 6 in 3 events." in out
    assert len(key_paths.encryption_keys.read_text().split()) == 2
    assert "Retired" not in out
    app = get_app(ini)
    testapp = webtest.TestApp(app, extra_environ={"HTTP_HOST": "example.com"})
    assert (
        sign_in(testapp, "ada", status=303).location == "http://example.com/users/ada/"
    )
    app.registry._zodb_databases[""].close()


def test_rotate_leaves_empty_and_current_values_alone(keyring):
    from types import SimpleNamespace

    from wingapp.scripts.keys import rotate

    thing = SimpleNamespace(empty=None, fresh=keyring.encrypt("x"))
    before = thing.fresh
    assert rotate(thing, "empty", keyring) is False
    assert rotate(thing, "fresh", keyring) is False
    assert thing.fresh is before
