"""Error pages, drawn in the layout or as JSON; never a traceback."""

from __future__ import annotations

import logging
from typing import Any

from pyramid.exceptions import BadCSRFToken
from pyramid.httpexceptions import (
    HTTPClientError,
    HTTPForbidden,
    HTTPNotFound,
    HTTPSeeOther,
)
from pyramid.renderers import render_to_response
from pyramid.view import (
    exception_view_config,
    forbidden_view_config,
    notfound_view_config,
)

from ..negotiation import wants_json

log = logging.getLogger(__name__)

ERROR_TEMPLATE = "wingapp:templates/site/error.pt"


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


@notfound_view_config()
def not_found(exc: HTTPNotFound, request: Any) -> Any:
    return error_response(
        request, 404, "Not found", "There is nothing at this address. Check the link."
    )


@forbidden_view_config()
def forbidden(exc: HTTPForbidden, request: Any) -> Any:
    if request.signed_in_user is None and not wants_json(request):
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
    return error_response(request, exc.code, exc.title, str(message))


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
