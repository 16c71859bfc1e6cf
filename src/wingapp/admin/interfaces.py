"""What the admin domain offers the views and the console scripts."""

from __future__ import annotations

from zope.interface import Interface


class IAdminService(Interface):
    """Changes an administrator makes to accounts.

    Every method takes the acting administrator's name (``actor``; a
    console script passes ``"os:<operating-system user>"``) and a short
    ``reason``, changes the account, and records one admin event with the
    fields before and after (never a secret). A refused change raises
    :class:`wingapp.users.services.Refused` with a message for a person
    and, where it concerns one field, that field's message.

    Changing an address or roles also needs the acting admin's password
    when their sign-in is older than ``auth.reauth_after``; the views check
    that (``wingapp.users.identity.reauthenticate``) before calling here.
    """

    def create_user(login, email, roles, reason, actor):
        """Make a confirmed-address-pending account with no password and
        mail it a code to set its own; return the user."""

    def set_email(user, email, reason, actor):
        """Move the account to another address (confirmed by the admin)."""

    def set_roles(user, roles, reason, actor):
        """Replace the account's roles."""

    def disable(user, reason, actor):
        """Refuse every sign-in and end every session of the account."""

    def enable(user, reason, actor):
        """Let a disabled account sign in again."""

    def force_reset(user, reason, actor):
        """Mail a reset code; until it is used, the account can only be
        entered through that reset (its password no longer signs in)."""

    def set_password(user, password, reason, actor):
        """Set a new password (the console's way back in); ends every
        session and clears a forced reset."""

    def resend_confirmation(user, reason, actor):
        """Mail an unconfirmed account a new confirmation code."""

    def mark_confirmed(user, reason, actor):
        """Treat the account's address as confirmed."""

    def end_sessions(user, reason, actor):
        """End every session of the account; return how many."""

    def revoke_trust(user, reason, actor):
        """Forget every trusted device and network of the account."""

    def delete(user, reason, actor):
        """Remove the account (its history stays in the event log)."""
