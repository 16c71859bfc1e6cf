"""The codes domain's service, found with ``request.find_service(ICodeService)``."""

from zope.interface import Interface


class ICodeService(Interface):
    """Issues, checks, cancels and sweeps codes (:class:`.services.CodeService`)."""
