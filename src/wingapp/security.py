"""The one security policy: identity from the session, access from ACLs."""

from __future__ import annotations

from typing import Any

from pyramid.authorization import ACLHelper, Authenticated, Everyone

from .permissions import role_principal, user_principal

PRINCIPALS = "_wingapp_principals"
"""The request attribute that keeps its principals, with whom they are for."""


class SecurityPolicy:
    """Who the request is, from its server-side session; what they may do,
    from the ``__acl__`` of the context and its parents."""

    def __init__(self, helper: ACLHelper | None = None) -> None:
        self.helper = helper or ACLHelper()

    def identity(self, request: Any) -> Any:
        return request.signed_in_user

    def authenticated_userid(self, request: Any) -> str | None:
        user = self.identity(request)
        return None if user is None else user.__name__

    def principals(self, request: Any) -> list[str]:
        # A page asks several times (the view's permission, the links the
        # layout shows): worked out once for whoever the request is now.
        # Signing in or out, or new roles (a new tuple), work them out anew.
        user = self.identity(request)
        roles = None if user is None else user.roles
        cached = getattr(request, PRINCIPALS, None)
        if cached is not None and cached[0] is user and cached[1] is roles:
            return cached[2]
        principals = [Everyone]
        if user is not None:
            principals.append(Authenticated)
            principals.append(user_principal(user.__name__))
            principals.extend(role_principal(role) for role in sorted(roles))
        setattr(request, PRINCIPALS, (user, roles, principals))
        return principals

    def permits(self, request: Any, context: Any, permission: str) -> Any:
        return self.helper.permits(context, self.principals(request), permission)

    # No remember() or forget(): signing in and out start and end the
    # server-side session (wingapp.users.identity); no header carries it.


def includeme(config) -> None:
    config.set_security_policy(SecurityPolicy())
