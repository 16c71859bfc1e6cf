"""Each account's own history: the event log's entries about it, newest
first, for its activity page and its admin page.

The log is ordered by time across every account, so finding one
account's entries in it would mean reading everyone's. Each account
instead keeps ``activity``, a tree from the entry's time key to the
entry (the very object the log holds, so nothing is stored twice); a
subscriber files every new entry there as the log records it.

Concurrent requests about one account append near the end of its tree:
their keys differ, and BTree conflict resolution merges them. Requests
about different accounts write different trees.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from BTrees.LOBTree import LOBTree

from ..events import ADMIN_PREFIX, FAILURE, IEntryRecorded
from ..interfaces import IKeyring

# What a person reads for each kind of entry. The users domain does not
# import the admin domain (it sits below it), so the admin kinds are named
# here by their strings.
SUCCEEDED = {
    "registration": "The account was created",
    "email-confirmed": "The email address was confirmed",
    "sign-in": "Signed in",
    "sign-out": "Signed out",
    "timeout": "A session ended after a time without activity",
    "session-ended": "A session was ended from the account's page",
    "password-change": "The password was changed",
    "password-reset": "The password was reset with an emailed code",
    "email-change": "The email address was changed",
    "device-trusted": "A new browser was remembered",
    "network-trusted": "A new network was remembered",
    "trust-revoked": "A remembered browser or network was forgotten",
    "not-me": "“This wasn't me”: sessions were ended",
    "account-expired": "The account was removed: its address was not confirmed in time",
    "admin-create": "An administrator created the account",
    "admin-email": "An administrator changed the email address",
    "admin-roles": "An administrator changed the roles",
    "admin-disable": "An administrator disabled the account",
    "admin-enable": "An administrator enabled the account",
    "admin-force-reset": "An administrator asked for a new password to be set",
    "admin-set-password": "An operator set the password",
    "admin-resend-confirmation": "An administrator sent a new confirmation code",
    "admin-mark-confirmed": "An administrator marked the email address as confirmed",
    "admin-end-sessions": "An administrator ended every session",
    "admin-revoke-trust": "An administrator forgot every trusted browser and network",
    "admin-delete": "An administrator deleted the account",
    "admin-import": "An import created or updated the account",
    "admin-action": "An administrator changed the account",
}
FAILED = {
    "registration": "Someone tried to register with this address",
    "email-confirmed": (
        "The address could not be confirmed: another account confirmed it first"
    ),
    "password-reset": "A reset was asked for a name or address with no account",
    "lockout": "Too many failed attempts: the account had to wait before the next",
    "password-change": "A password change gave a wrong current password",
    "email-change": "An email change gave a wrong current password",
    "reauth": (
        "A wrong password was given before changing an account's address or roles"
    ),
}
SIGN_IN_REFUSED = {
    "password": "A wrong password was given",
    "locked": "A sign-in was refused: the account had to wait after failed attempts",
    "disabled": "The right password was given, but the account is disabled",
    "must reset": (
        "The right password was given, but a new password must be set first: "
        "a reset code was mailed"
    ),
}
CODES = {
    "code-sent": "A code{purpose} was mailed",
    "code-verified": "A code{purpose} was entered",
    "code-failed": "A wrong or used-up code{purpose} was entered",
    "code-expired": "An expired code{purpose} was entered",
}
PURPOSES = {
    "sign-in": " to sign in",
    "confirm-email": " to confirm the email address",
    "reset-password": " to reset the password",
    "change-email": " to change the email address",
}


def file_entry(activity: LOBTree, time_key: int, entry: Any) -> int | None:
    """Put ``entry`` in ``activity`` under ``time_key``, or the next free
    key; return the key, or None when it is there already (a backfill that
    runs again files nothing twice)."""
    key = time_key
    while key in activity:
        if activity[key] is entry:
            return None
        key += 1
    activity[key] = entry
    return key


def entry_recorded(event: Any) -> None:
    """File each new log entry under the account it concerns."""
    entry = event.entry
    if entry.login is None:
        return
    user = event.request.root["users"].get(entry.login)
    if user is not None:
        file_entry(user.activity, event.key[1], entry)


def give_accounts_histories(root: Any) -> None:
    """Generation 10: every account gets its history, filled from the
    whole event log."""
    users = root["users"]
    for user in users.values():
        user.ensure_records()
    for tree in root.audit.shards:
        for time_key, entry in tree.items():
            user = users.get(entry.login) if entry.login else None
            # An entry older than the account was about an earlier account
            # of the same name, since deleted.
            if user is not None and entry.time >= user.created:
                file_entry(user.activity, time_key, entry)


def _older_than(tree: LOBTree, before: int | None) -> Iterator[tuple[int, Any]]:
    # A BTree cannot walk backwards; each step is one descent from the
    # root, cheap for the page or two of newest entries people look at.
    try:
        key = tree.maxKey() if before is None else tree.maxKey(before - 1)
        while True:
            yield key, tree[key]
            key = tree.maxKey(key - 1)
    except ValueError:  # no key (left)
        return


def history(
    user: Any, *, before: int | None = None, limit: int = 20, admin_only: bool = False
) -> tuple[list[tuple[int, Any]], int | None]:
    """A page of ``user``'s history, newest first, of entries whose key is
    below ``before``; and the ``before`` of the next page (None on the
    last). ``admin_only`` keeps administrators' actions only."""
    found: list[tuple[int, Any]] = []
    for key, entry in _older_than(user.activity, before):
        if admin_only and not entry.kind.startswith(ADMIN_PREFIX):
            continue
        if len(found) == limit:
            return found, found[-1][0]
        found.append((key, entry))
    return found, None


def sentence(entry: Any) -> str:
    """What happened, in words for the account's owner."""
    kind, detail = entry.kind, entry.detail
    if kind in CODES:
        purpose = PURPOSES.get(detail.get("purpose"), "")
        return CODES[kind].format(purpose=purpose)
    if entry.outcome == FAILURE:
        if kind == "sign-in":
            return SIGN_IN_REFUSED.get(detail.get("reason"), "A sign-in was refused")
        return FAILED.get(kind, f"Something failed ({kind})")
    if kind in SUCCEEDED:
        return SUCCEEDED[kind]
    if kind.startswith(ADMIN_PREFIX):
        return SUCCEEDED["admin-action"]
    return f"Something happened ({kind})"


def describe_entry(request: Any, entry: Any) -> dict:
    """An entry as a page or JSON shows it: personal data decrypted, no
    secret (the log holds none). ``reason``, ``before`` and ``after`` are
    an administrator's, so only admin actions have them."""
    keyring = request.find_service(IKeyring)
    detail = entry.detail if entry.kind.startswith(ADMIN_PREFIX) else {}

    def decrypt(token: bytes | None) -> str | None:
        return None if token is None else keyring.decrypt(token)

    return {
        "time": entry.time,
        "kind": entry.kind,
        "what": sentence(entry),
        "outcome": entry.outcome,
        "actor": entry.actor,
        "ip": decrypt(entry.ip_token),
        "browser": decrypt(entry.ua_token),
        "reason": detail.get("reason"),
        "before": detail.get("before"),
        "after": detail.get("after"),
    }


def includeme(config) -> None:
    config.add_subscriber(entry_recorded, IEntryRecorded)
    config.add_evolve_step(
        10, "give each account its own history", give_accounts_histories
    )
