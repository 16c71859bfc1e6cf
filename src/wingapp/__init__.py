"""wingapp: accounts and two-step verification on Pyramid and ZODB."""

from __future__ import annotations

import os
import warnings

# pyramid 2.1 imports pkg_resources, which warns on import (setuptools<82 is
# pinned for it). Said once per command, it would bury what the command says.
warnings.filterwarnings(
    "ignore", message="pkg_resources is deprecated", category=UserWarning
)

from pyramid.config import Configurator  # noqa: E402

from .requests import one_request_class  # noqa: E402
from .resources import bootstrap, root_factory  # noqa: E402
from .settings import exits_on_bad_settings  # noqa: E402


@exits_on_bad_settings
def main(global_config, **settings):
    """The WSGI application (``paste.app_factory``)."""
    # The explicit manager makes any use of the transaction outside a
    # request's scope an error instead of a silent, separate transaction.
    settings.setdefault("tm.manager_hook", "pyramid_tm.explicit_manager")
    settings.setdefault("retry.attempts", "8")
    settings.setdefault("tm.commit_veto", "wingapp.txn.commit_veto")
    # The audit log names the user; annotating would look the session up
    # before traversal, for every request.
    settings.setdefault("tm.annotate_user", "false")
    # Data.fs, its index, lock and blobs (and the mail spool) hold account
    # data: readable by this user only, whoever else shares the machine.
    os.umask(0o077)
    with Configurator(settings=settings, root_factory=root_factory) as config:
        # First: it checks retry.attempts before pyramid_retry reads it.
        config.include(".settings")
        config.include("pyramid_chameleon")
        config.include("pyramid_tm")
        config.include("pyramid_retry")
        config.include(".retry")
        config.include("pyramid_services")
        config.include(".services")
        # The core: directives first, since everything after may use them.
        config.include(".directives")
        config.include(".openapi")
        config.include(".clock")
        config.include(".keys")
        config.include(".audit")
        config.include(".renderers")
        config.include(".negotiation")
        config.include(".headers")
        config.include(".requests")
        config.include(".hosts")
        config.include(".security")
        config.include(".sessions")
        config.include(".views")
        config.include(".mail")
        # The domains: each registers its containers, evolve steps,
        # services and subscribers with the core.
        config.include(".users")
        config.include(".codes")
        config.include(".reports")
        config.include(".admin")
        # Last: it opens the database, which nothing above needs, and which
        # a start refused by a bad setting would otherwise leave open.
        config.include("pyramid_zodbconn")
    app = config.make_wsgi_app()
    one_request_class(app)
    bootstrap(app.registry._zodb_databases[""], app.registry)
    return app
