"""Every permission name, in one place, "domain:object:verb" style."""

VIEW = "view"
"""Public pages: home, sign-in, registration."""

ADMIN_BROWSE = "admin:tree:read"
"""List any container and see any resource's metadata."""

USER_READ = "users:self:read"
USER_WRITE = "users:self:write"
USER_CREDENTIALS = "users:self:credentials"
"""Change one's own password or address: only the owner, never an admin
(who forces a reset or sets the address from the account's admin page)."""

ADMIN_USERS_WRITE = "admin:users:write"
ADMIN_CODES_READ = "admin:codes:read"
ADMIN_REPORTS_READ = "admin:reports:read"


def role_principal(role: str) -> str:
    return f"role:{role}"


ROLE_ADMIN = role_principal("admin")
ROLE_USER = role_principal("user")


def user_principal(login: str) -> str:
    return f"user:{login}"
