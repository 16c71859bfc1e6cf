"""Error pages, drawn in the layout or as JSON; never a traceback."""

from __future__ import annotations

import html
import logging
from typing import Any

from pyramid.exceptions import BadCSRFToken
from pyramid.httpexceptions import (
    HTTPClientError,
    HTTPForbidden,
    HTTPNotFound,
    HTTPSeeOther,
)
from pyramid.interfaces import IRootFactory
from pyramid.renderers import render_to_response
from pyramid.response import Response
from pyramid.traversal import DefaultRootFactory
from pyramid.view import (
    exception_view_config,
    forbidden_view_config,
    notfound_view_config,
)
from transaction.interfaces import TransientError

from ..negotiation import wants_json
from ..retry import UNAVAILABLE
from ..txn import KEEP

log = logging.getLogger(__name__)

ERROR_TEMPLATE = "wingapp:templates/site/error.pt"
RETRY_AFTER_SECONDS = 1
# A database server restarts in a few seconds.
UNAVAILABLE_RETRY_AFTER_SECONDS = 5


def error_response(request: Any, status: int, title: str, message: str) -> Any:
    if wants_json(request):
        response = render_to_response(
            "json", {"error": title, "status": status, "message": message}, request
        )
    else:
        response = render_to_response(
            ERROR_TEMPLATE,
            {"title": title, "message": message, "status": status},
            request,
        )
    response.status_int = status
    return response


def refused_before_routing(request: Any, message: str) -> Any:
    """A 400 for a request a tween refuses: the error page's layout draws
    the site's navigation from the root, which the router has not looked
    up yet."""
    registry = request.registry
    factory = registry.queryUtility(IRootFactory, default=DefaultRootFactory)
    request.root = factory(request)
    return error_response(request, 400, "Bad request", message)


@notfound_view_config()
def not_found(exc: HTTPNotFound, request: Any) -> Any:
    return error_response(
        request, 404, "Not found", "There is nothing at this address. Check the link."
    )


@forbidden_view_config()
def forbidden(exc: HTTPForbidden, request: Any) -> Any:
    if request.signed_in_user is None:
        if wants_json(request):
            # 401, not 403: who is asking is not known yet. Without a
            # WWW-Authenticate header, since no HTTP scheme signs in here:
            # only the sign-in form's session cookie does.
            return error_response(
                request,
                401,
                "Unauthorized",
                "Sign in first: this needs a signed-in session, and the "
                "request came without one (or its session has ended).",
            )
        # Not signed in (or the session ended): sign in, then come back.
        login = request.resource_url(
            request.root, "login", query={"next": request.path_qs}
        )
        return HTTPSeeOther(location=login)
    return error_response(
        request, 403, "Forbidden", "You do not have permission to see this page."
    )


@exception_view_config(BadCSRFToken)
def bad_csrf_token(exc: BadCSRFToken, request: Any) -> Any:
    return error_response(
        request,
        400,
        "Form expired",
        "This form was sent without a valid security token: it may have expired "
        "or come from another site. Reload the page and try again.",
    )


@exception_view_config(HTTPClientError)
def client_error(exc: HTTPClientError, request: Any) -> Any:
    # Our own HTTP errors carry a message meant for the person who made the
    # request (which parameter was wrong, and why).
    message = exc.detail or exc.explanation
    response = error_response(request, exc.code, exc.title, str(message))
    if "Allow" in exc.headers:
        # A 405 says which methods the page does take.
        response.headers["Allow"] = exc.headers["Allow"]
    return response


@exception_view_config(Exception, retryable_error=True)
def retrying(exc: Exception, request: Any) -> Any:
    """A conflict with another request (or another error worth a retry),
    with attempts left: pyramid_retry throws this answer away and runs the
    request again (``wingapp.retry`` logs it). Without this view the
    catch-all below would log each one as an error."""
    # Nothing of a request that collided may be kept, not even a failure
    # it meant to record: the new attempt records it again.
    request.environ.pop(KEEP, None)
    return Response(status=503)


@exception_view_config(TransientError, last_retry_attempt=True)
def too_busy(exc: Exception, request: Any) -> Any:
    """A conflict that outlasted every attempt: the data is fine, the
    server was too busy; the visitor may simply try again."""
    request.environ.pop(KEEP, None)
    log.warning(
        "%s on %s %s outlasted %s attempts; answered 503: %s",
        type(exc).__name__,
        request.method,
        request.path,
        request.environ.get("retry.attempts", 1),
        exc,
    )
    response = error_response(
        request,
        503,
        "Server busy",
        "Many requests are changing the same data right now, and yours could "
        "not be completed. Nothing was changed; please try again in a moment.",
    )
    response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


def database_unavailable(exc: Exception, request: Any) -> Any:
    """The database server was gone for every attempt (restarting, failing
    over, unreachable): 503, and the visitor may try again shortly. The
    storages reconnect by themselves at a later request."""
    request.environ.pop(KEEP, None)
    reason = str(exc).strip().splitlines()
    log.warning(
        "%s on %s %s in each of %s attempts; answered 503: %s",
        type(exc).__name__,
        request.method,
        request.path,
        request.environ.get("retry.attempts", 1),
        reason[0] if reason else "database unavailable",
    )
    title = "Service unavailable"
    message = (
        "The database is not answering right now; it may be restarting. "
        "Your request was not completed. Please try again in a moment."
    )
    if wants_json(request):
        response = error_response(request, 503, title, message)
    else:
        # Not the layout: it shows who is signed in and the navigation,
        # which are read from the database that is not there.
        response = Response(
            UNAVAILABLE_PAGE.format(
                title=title,
                message=message,
                css=html.escape(request.static_url("wingapp:static/css/wingapp.css")),
                home=html.escape(request.application_url + "/"),
            ),
            status=503,
            content_type="text/html",
            charset="utf-8",
        )
    response.headers["Retry-After"] = str(UNAVAILABLE_RETRY_AFTER_SECONDS)
    return response


for _error in UNAVAILABLE:
    # One view for each storage's error (they share no base class but
    # Exception), for the last attempt; the attempts before it are the
    # `retrying` view's.
    exception_view_config(_error, last_retry_attempt=True)(database_unavailable)

UNAVAILABLE_PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>{title} · wingapp</title>
  <link rel="stylesheet" href="{css}">
</head>
<body>
  <header class="site-header"><a class="brand" href="{home}">wingapp</a></header>
  <main class="content" id="main">
    <section class="error" aria-labelledby="error-title">
      <h1 id="error-title">{title}</h1>
      <p class="error-message">{message}</p>
      <p class="error-status">Error 503</p>
      <p><a href="{home}">Go to the home page</a></p>
    </section>
  </main>
</body>
</html>
"""


@exception_view_config(Exception)
def server_error(exc: Exception, request: Any) -> Any:
    log.error("unhandled error on %s %s", request.method, request.path, exc_info=exc)
    return error_response(
        request,
        500,
        "Something went wrong",
        "The server could not complete the request. Nothing was changed; "
        "please try again.",
    )
