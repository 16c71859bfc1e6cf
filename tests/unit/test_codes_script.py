"""``wingapp CONFIG sweep-codes``."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta

import pytest
import transaction
from pyramid.paster import get_app

from tests.accounts import service as service_of
from wingapp.codes.services import CodeService
from wingapp.interfaces import IKeyring
from wingapp.scripts import cli


def run(*argv):
    out, err = io.StringIO(), io.StringIO()
    code = cli.main(list(argv), stdin=io.StringIO(""), stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


def with_codes(ini_file, work):
    app = get_app(str(ini_file))
    db = app.registry._zodb_databases[""]
    tm = transaction.TransactionManager(explicit=True)
    conn = db.open(transaction_manager=tm)
    try:
        with tm:
            return work(conn.root()["wingapp"]["codes"], app.registry)
    finally:
        conn.close()
        db.close()


@pytest.fixture
def aged(ini_file):
    """Codes that expired 30, 5 and 0 days ago."""
    now = datetime.now(UTC)

    def issue(codes, registry):
        for days, owner in ((30, "old"), (5, "recent"), (0, "new")):
            when = now - timedelta(days=days, minutes=10)
            service = CodeService(
                codes, service_of(registry, IKeyring), lambda w=when: w
            )
            service.issue("sign-in", owner, "flow")

    with_codes(ini_file, issue)
    return ini_file


def owners(ini_file):
    return with_codes(
        ini_file, lambda codes, _: sorted(c.owner for c in codes.values())
    )


def test_sweep_removes_codes_past_the_retention(aged):
    code, out, err = run(str(aged), "sweep-codes")
    assert (code, out, err) == (0, "Expired codes removed: 1.\n", "")
    assert owners(aged) == ["new", "recent"]
    assert run(str(aged), "sweep-codes")[1] == "Expired codes removed: 0.\n"


def test_sweep_with_days(aged):
    assert run(str(aged), "sweep-codes", "--days", "1")[1] == (
        "Expired codes removed: 2.\n"
    )
    assert owners(aged) == ["new"]


def test_sweep_refuses_negative_days(aged, capsys):
    with pytest.raises(SystemExit) as exit_info:
        run(str(aged), "sweep-codes", "--days", "-1")
    assert exit_info.value.code == 2
    assert "must not be negative" in capsys.readouterr().err
