"""schemathesis against a real ``pserve`` (issue 9, item 12): the schema is
loaded from the served ``/openapi.json`` and every operation in it is sent
cases generated from it (valid per the schema, and deliberately invalid),
first anonymously, then as a signed-in admin whose session cookie and CSRF
token go with each request. No answer is 500 or more, no body holds a
traceback, and the server logs no unhandled error.
"""

from __future__ import annotations

import re
import subprocess
import time
from collections import Counter
from datetime import UTC, datetime
from typing import Any

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode

from tests.conftest import write_ini

from .servers import BIN, Client, admin_password, free_port, run, stop, wait_for_http

pytestmark = pytest.mark.integration

EXAMPLES = 90
"""Cases per operation and visitor (fewer for one that takes nothing: its
few distinct requests are all hypothesis can make): some 6,800 in all."""
TOKEN = re.compile(r'data-csrf-token="([0-9a-f]+)"')
VICTIM_PASSWORD = "amber quarry lantern forty-two"
PARAMETER = re.compile(r"\{(\w+)\}")
KNOWN = {
    "login": lambda: "victim",
    # The week under way has a report; codes are named by chance, so none
    # is known ahead.
    "week": lambda: "{}-W{:02d}".format(*datetime.now(UTC).isocalendar()[:2]),
    "code": lambda: "no-such-code",
}


@pytest.fixture
def served(tmp_path, file_settings):
    """pserve on a file database with its first admin and one more account,
    which the admin's cases may change."""
    port = free_port()
    ini = write_ini(
        tmp_path / "serve.ini", {**file_settings, "auth.two_step": "never"}, port=port
    )
    init = run([BIN / "wingapp", ini, "init"])
    run(
        [BIN / "wingapp", ini, "add-user", "victim", "--email", "victim@example.org"],
        input=VICTIM_PASSWORD,
    )
    log = (tmp_path / "pserve.log").open("w+")
    process = subprocess.Popen(
        [BIN / "pserve", ini], stdout=log, stderr=subprocess.STDOUT
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_for_http(base + "/", process=process)
        yield base, admin_password(init.stdout), log
    finally:
        stop(process)
        log.close()


class Visitor:
    """What goes with each request: nothing for a visitor, or the admin's
    session cookie and the session's CSRF token (signing in again should
    a case have ended the session)."""

    def __init__(self, base: str, password: str | None) -> None:
        self.base = base
        self.password = password
        self.cookie = ""
        self.token = ""
        self.sign_in()

    def sign_in(self) -> None:
        if self.password is None:
            return
        client = Client(self.base)
        answer = client.sign_in("admin", self.password)
        assert answer.status == 303, answer.text[:500]
        # The page stores the session's token in its cookie: read first.
        self.token = TOKEN.search(client.get("/").text).group(1)
        self.cookie = "; ".join(f"{k}={v}" for k, v in client.jar.items())

    def still_signed_in(self) -> None:
        if self.password is None:
            return
        answer = requests.get(
            self.base + "/users/",
            headers={"Cookie": self.cookie, "Accept": "application/json"},
            timeout=30,
        )
        if answer.status_code != 200:
            self.sign_in()

    def call(self, case: Any, session: requests.Session) -> Any:
        headers = {}
        if self.cookie:
            headers["Cookie"] = self.cookie
        if case.method == "GET":
            headers["Accept"] = "application/json"
        if self.token:
            headers["X-CSRF-Token"] = self.token
            if isinstance(case.body, dict) and case.media_type != "application/json":
                case.body["csrf_token"] = self.token
        return case.call(
            base_url=self.base,
            session=session,
            headers=headers,
            allow_redirects=False,
            timeout=30,
        )


def fuzz_operation(
    operation: Any, visitor: Visitor, counted: dict, statuses: Counter
) -> None:
    label = f"{operation.method.upper()} {operation.path}"
    session = requests.Session()
    strategies = [
        operation.as_strategy(GenerationMode.POSITIVE),
        operation.as_strategy(GenerationMode.NEGATIVE),
    ]
    names = PARAMETER.findall(operation.path)
    if names:
        # Names the tree holds, so that cases reach the views and not only
        # the 404 of a name that is not there.
        known = {name: KNOWN[name]() for name in names}
        strategies += [
            operation.as_strategy(mode, path_parameters=known)
            for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)
        ]
    strategy = st.one_of(strategies)

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(strategy)
    def fuzz(case: Any) -> None:
        answer = visitor.call(case, session)
        assert answer.status_code < 500, (
            f"{label} answered {answer.status_code}\n{case.as_curl_command()}"
        )
        assert "Traceback" not in answer.text, label
        counted[label] = counted.get(label, 0) + 1
        statuses[answer.status_code] += 1

    fuzz()
    session.close()


def test_schemathesis_finds_no_500_anonymous_or_as_admin(served, capsys):
    base, password, log = served
    schema = schemathesis.openapi.from_url(base + "/openapi.json")
    operations = [result.ok() for result in schema.get_all_operations()]
    # Every operation of the document, but the document itself, which
    # schemathesis leaves out of the schema it was loaded from.
    document = requests.get(base + "/openapi.json", timeout=30).json()
    described = {
        f"{method.upper()} {path}"
        for path, item in document["paths"].items()
        for method in item
    }
    assert {op.label for op in operations} == described - {"GET /openapi.json"}
    started = time.monotonic()
    totals = {}
    statuses: dict[str, Counter] = {"anonymous": Counter(), "admin": Counter()}
    for who, secret in (("anonymous", None), ("admin", password)):
        visitor = Visitor(base, secret)
        counted: dict[str, int] = {}
        sent = [
            operation
            for operation in operations
            # Signing the admin out would end the run's session.
            if not (secret and operation.path == "/logout")
        ]
        for operation in sent:
            fuzz_operation(operation, visitor, counted, statuses[who])
            visitor.still_signed_in()
        # Each operation was sent its cases: as many as asked for, unless
        # it takes no input at all.
        assert len(counted) == len(sent)
        for operation in sent:
            label = f"{operation.method.upper()} {operation.path}"
            takes_input = bool(
                operation.get_request_payload_content_types()
                or list(operation.iter_parameters())
            )
            assert counted[label] >= (EXAMPLES // 2 if takes_input else 1), label
        totals[who] = sum(counted.values())
    log.seek(0)
    served_log = log.read()
    assert "Traceback" not in served_log
    assert "unhandled error" not in served_log
    with capsys.disabled():
        print(
            f"\nschemathesis: {sum(totals.values())} cases "
            f"({totals['anonymous']} anonymous, {totals['admin']} as admin) "
            f"on {len(operations)} operations in {time.monotonic() - started:.0f} s, "
            "none answered 500"
        )
        for who, found in statuses.items():
            print(
                f"  {who}: " + ", ".join(f"{n}× {s}" for s, n in sorted(found.items()))
            )
