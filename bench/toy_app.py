"""The yardstick for wingapp's pages: exactly its stack and nothing more.

pyramid_tm (explicit transaction manager, as wingapp sets it),
pyramid_zodbconn, traversal from a persistent root to a persistent object,
and one small Chameleon page template for it. Whatever wingapp's pages
cost beyond this is wingapp's own code, not the framework's.

``make_app(zodb_uri)`` is the WSGI application; the database gets its
tree at the first start.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import transaction
from persistent import Persistent
from persistent.mapping import PersistentMapping
from pyramid.config import Configurator
from pyramid_zodbconn import get_connection

TEMPLATE = str(Path(__file__).resolve().parent / "toy_page.pt")


class Page(Persistent):
    def __init__(self, name: str, parent: object, title: str) -> None:
        self.__name__ = name
        self.__parent__ = parent
        self.title = title


class Folder(PersistentMapping):
    __name__ = None
    __parent__ = None


def root_factory(request):
    return get_connection(request).root()["toy"]


def page_view(context, request) -> dict:
    return {"title": context.title, "url": request.resource_url(context)}


def make_tree(db) -> None:
    """The persistent root and one page under it, made once."""
    tm = transaction.TransactionManager(explicit=True)
    conn = db.open(transaction_manager=tm)
    try:
        with tm:
            root = conn.root()
            if "toy" not in root:
                site = Folder()
                site["page"] = Page("page", site, "A page")
                root["toy"] = site
    finally:
        conn.close()


def make_app(zodb_uri: str, render: Callable[[], str] | None = None):
    """The toy page's app; with ``render``, its page is what ``render``
    returns (bench/budget.py's replay of wingapp's page templates) instead
    of the toy template: everything else stays the toy's."""
    settings = {
        "zodbconn.uri": zodb_uri,
        "tm.manager_hook": "pyramid_tm.explicit_manager",
    }
    with Configurator(settings=settings, root_factory=root_factory) as config:
        config.include("pyramid_chameleon")
        config.include("pyramid_tm")
        config.include("pyramid_zodbconn")
        if render is None:
            config.add_view(page_view, context=Page, renderer=TEMPLATE)
        else:
            # Through a renderer, as the toy's template is, so the response
            # is made the same way.
            config.add_renderer(".replay", lambda info: lambda value, system: render())
            config.add_view(page_view, context=Page, renderer="page.replay")
    app = config.make_wsgi_app()
    make_tree(app.registry._zodb_databases[""])
    return app
