"""Requests no view can read, refused before any view runs.

A method no view here answers (PUT, DELETE, OPTIONS, PATCH...) is a 405
that says which methods the page takes. WebOb decodes the path, the query and form fields as UTF-8 only when a
view asks for them, so bytes that are not UTF-8 would fail deep inside a
view (or inside the error page drawn for it) as a 500. Checked here once,
they get a 400 in the layout, and the transaction aborts.

Also here: the one class the app makes its requests of
(:func:`one_request_class`).
"""

from __future__ import annotations

import json
from types import SimpleNamespace
from typing import Any
from urllib.parse import unquote_to_bytes

from pyramid.events import ContextFound
from pyramid.httpexceptions import HTTPMethodNotAllowed
from zope.interface.interfaces import IInterface

from .views.errors import refused_before_routing

FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")
# A view registered without a method is a page to read or a form to post.
STANDARD_METHODS = ("GET", "HEAD", "POST")
FILE_FIELDS = frozenset({"file"})
"""The only form field that takes a file (the admin's import)."""


def _utf8(raw: bytes) -> bool:
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def address_problem(environ: dict) -> str | None:
    # WSGI hands the path over as Latin-1 text of the raw bytes.
    path = environ.get("PATH_INFO", "").encode("latin-1")
    if not _utf8(path):
        return "This address is not valid: its path is not UTF-8 text."
    if not _utf8(unquote_to_bytes(environ.get("QUERY_STRING", ""))):
        return "This address is not valid: its query is not UTF-8 text."
    return None


def body_problem(request: Any) -> str | None:
    content_type = request.content_type
    if content_type in FORM_TYPES:
        if request.charset.upper() != "UTF-8":
            return f"Forms are read as UTF-8, and this one said {request.charset}."
        if content_type == "multipart/form-data" and "boundary=" not in (
            request.environ.get("CONTENT_TYPE", "")
        ):
            # Read as no fields at all, it would look like an empty form.
            return "This form could not be read: it has no boundary."
        try:
            fields = request.POST
        except (ValueError, TypeError):
            return "This form could not be read."
        if any(
            not isinstance(value, str) and name not in FILE_FIELDS
            for name, value in fields.items()
        ):
            return "This form takes no files."
    elif content_type == "application/json" and request.body:
        try:
            json.loads(request.body)
        except RecursionError:
            return "This JSON is nested too deeply."
        except ValueError:
            # Not JSON at all: the view says what it expected.
            pass
    return None


def _fits(context: Any, declared: Any) -> bool:
    if IInterface.providedBy(declared):
        return declared.providedBy(context)
    # A view declared for no context is for any.
    return declared is None or isinstance(context, declared)


def allowed_methods(request: Any) -> set[str]:
    """The methods the views of this page (context and view name) answer;
    empty when there is no such page."""
    allowed: set[str] = set()
    for entry in request.registry.introspector.get_category("views"):
        view = entry["introspectable"]
        if (
            view["exception_only"]
            or view["route_name"] is not None
            or view["name"] != request.view_name
            or not _fits(request.context, view["context"])
        ):
            continue
        methods = view["request_methods"] or STANDARD_METHODS
        allowed.update((methods,) if isinstance(methods, str) else methods)
    if "GET" in allowed:
        allowed.add("HEAD")
    return allowed


def refuse_other_methods(event: ContextFound) -> None:
    request = event.request
    if request.method in STANDARD_METHODS:
        return
    allowed = allowed_methods(request)
    if allowed:
        raise HTTPMethodNotAllowed(
            f"This page answers {', '.join(sorted(allowed))}, not {request.method}.",
            headers={"Allow": ", ".join(sorted(allowed))},
        )


def sane_request_tween_factory(handler: Any, registry: Any) -> Any:
    def sane_request(request: Any) -> Any:
        problem = address_problem(request.environ) or body_problem(request)
        if problem is None:
            return handler(request)
        return refused_before_routing(request, problem)

    return sane_request


def one_request_class(router: Any) -> None:
    """Have ``router`` make its requests of one class that already holds
    every property the configuration added (``add_request_method`` with
    ``property`` or ``reify``: ``sign_in``, ``tm``, ``services``...).

    Left to itself, Pyramid makes a new class for every request to hold
    them, which was about a twentieth of a signed-in page's time. The
    registry's extensions stay whole, so ``apply_request_extensions`` and
    ``pyramid.scripting.prepare`` still give other requests (commands,
    tests) the same properties; only the router skips them, since its
    class has them already. (A subrequest, which wingapp makes none of,
    would have to be made with ``router.request_factory`` to have them.)"""
    extensions = router.request_extensions
    router.request_factory = type(
        "Request",
        (router.request_factory,),
        {"__module__": __name__, **extensions.descriptors},
    )
    # The same dict of methods: they are bound per request, not per class.
    router.request_extensions = SimpleNamespace(
        methods=extensions.methods, descriptors={}
    )


def includeme(config: Any) -> None:
    config.add_subscriber(refuse_other_methods, ContextFound)
    # Inside the transaction, which the 400 aborts; outside every tween
    # and view that would read the request.
    config.add_tween(
        "wingapp.requests.sane_request_tween_factory",
        under="pyramid_tm.tm_tween_factory",
        over="wingapp.negotiation.html_only_tween_factory",
    )
