"""Marker interfaces: views and ACLs bind to these, not to classes."""

from zope.interface import Attribute, Interface


class IResource(Interface):
    """Anything that lives in the tree."""

    __name__ = Attribute("The name under which the parent holds it.")
    __parent__ = Attribute("The container holding it; None for the root.")


class IFolder(IResource):
    """A BTree-backed container of resources."""


class IRoot(IFolder):
    """The root of the tree."""


class IUsers(IFolder):
    """The container of user accounts."""


class IUser(IResource):
    """A user account."""


class ICodes(IFolder):
    """The container of one-time codes."""


class ICode(IResource):
    """A one-time verification code (only its keyed hash is kept)."""


class IReports(IFolder):
    """The container of reports."""


class IReport(IResource):
    """A report built from the event log."""


# Services of the core, registered with pyramid_services and found per
# request with ``request.find_service(IKeyring)``. The domains declare
# their own service interfaces in their own packages.


class IClock(Interface):
    """What time it is: ``clock()`` gives an aware UTC datetime."""

    def __call__():
        """The current time."""


class IKeyring(Interface):
    """Encryption and keyed hashes for personal data (:mod:`wingapp.keys`)."""


class IMailer(Interface):
    """Transactional mail (:mod:`wingapp.mail`): ``send(message, tm)``, and
    ``rehearse(message, tm)``, which does the same work and sends nothing."""


class ICookiePolicy(Interface):
    """How the cookies wingapp sets are flagged (``secure``)."""
