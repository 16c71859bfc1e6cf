"""The root's home page."""

from __future__ import annotations

from pyramid.view import view_config

from ..interfaces import IRoot
from ..permissions import ADMIN_BROWSE, VIEW


@view_config(context=IRoot, renderer="wingapp:templates/site/home.pt", permission=VIEW)
def home(context, request):
    return {"title": context.title}


@view_config(context=IRoot, json=True, renderer="json", permission=VIEW)
def home_json(context, request):
    data = {
        "type": "root",
        "title": context.title,
        "url": request.resource_url(context),
    }
    if request.has_permission(ADMIN_BROWSE, context):
        data["generation"] = context.generation
        data["containers"] = [
            {"name": name, "url": request.resource_url(child), "length": len(child)}
            for name, child in context.items()
        ]
    return data
