"""``/openapi.json`` describes every JSON endpoint and every form post, and
nothing else: checked against the views Pyramid registered, both ways.

Traversal has no routes, so each path template of the document is filled
in with names of a real tree (an account, a code, a week) and resolved by
Pyramid's own traverser to a context and a view name; the views that could
answer it are those registered for that context's types under that name
and method.
"""

from __future__ import annotations

import re

import colander
import pytest
import transaction
from openapi_spec_validator import validate
from pyramid.config import Configurator
from pyramid.exceptions import ConfigurationConflictError
from pyramid.request import Request
from pyramid.traversal import ResourceTreeTraverser
from zope.interface.interfaces import IInterface

from tests.accounts import add_user, service
from wingapp.admin.forms import BulkForm, RolesForm
from wingapp.codes.services import CodeService
from wingapp.interfaces import IClock, IKeyring
from wingapp.openapi import operations, schema_of
from wingapp.users.forms import RegisterForm

PARAMETER = re.compile(r"\{(\w+)\}")


def registered_views(app):
    """(context type, view name, method, is JSON, method named) of every
    view a request can reach; a view registered for no method takes GET
    and POST (Pyramid's default, which no form posts to)."""
    for item in app.registry.introspector.get_category("views"):
        view = item["introspectable"]
        if view["context"] is None or view.get("exception_only"):
            continue
        predicates = {p.text() for p in view["predicates"]}
        renderers = {
            r["name"] for r in item["related"] if r.category_name == "templates"
        }
        is_json = (
            "json = True" in predicates
            or "json" in renderers
            or view["name"].endswith(".json")
        )
        methods = view["request_methods"] or ("GET", "POST")
        if isinstance(methods, str):
            methods = (methods,)
        for method in methods:
            if method != "HEAD":
                yield view, method, is_json, view["request_methods"] is not None


def described(app):
    """The views the document must describe: JSON answers, and the views
    registered for POST (forms, and the JSON the page's script posts)."""
    return {
        (view["context"], view["name"], method)
        for view, method, is_json, named in registered_views(app)
        if (is_json and method == "GET") or (method == "POST" and named)
    }


def fits(resource, declared):
    if IInterface.providedBy(declared):
        return declared.providedBy(resource)
    return isinstance(resource, declared)


@pytest.fixture
def tree(app, db):
    add_user(app, "root", roles=("user", "admin"))
    tm = transaction.TransactionManager(explicit=True)
    conn = db.open(transaction_manager=tm)
    tm.begin()
    root = conn.root()["wingapp"]
    code, _ = CodeService(
        root["codes"], service(app.registry, IKeyring), service(app.registry, IClock)
    ).issue("sign-in", "root", "a flow")
    names = {"login": "root", "code": code.__name__, "week": "2026-W48"}
    yield root, names
    tm.abort()
    conn.close()


def resolve(app, root, path):
    request = Request.blank(path)
    request.registry = app.registry
    found = ResourceTreeTraverser(root)(request)
    return found["context"], found["view_name"]


def test_the_document_and_the_views_agree_both_ways(app, testapp, tree):
    root, names = tree
    document = testapp.get("/openapi.json").json
    must = described(app)
    assert len(must) > 30
    covered = set()
    for path, methods in document["paths"].items():
        concrete = PARAMETER.sub(lambda m: names[m.group(1)], path)
        context, view_name = resolve(app, root, concrete)
        for method in methods:
            answering = {
                (declared, name, verb)
                for declared, name, verb in must
                if fits(context, declared)
                and name == view_name
                and verb == method.upper()
            }
            # Every operation is a JSON endpoint or a form post of a view.
            assert answering, f"{method.upper()} {path}: no such view"
            covered |= answering
    # Every JSON endpoint and form post is in the document.
    missing = sorted(
        f"{getattr(c, '__name__', c)} @@{n} {m}" for c, n, m in must - covered
    )
    assert not missing, missing


def test_the_document_is_valid_openapi_3_1(testapp):
    document = testapp.get("/openapi.json").json
    validate(document)
    assert document["openapi"] == "3.1.0"
    assert document["servers"] == [{"url": "http://example.com"}]
    assert document["components"]["securitySchemes"]["session"]["name"] == (
        "wingapp_session"
    )


def test_every_post_carries_the_csrf_token(testapp):
    document = testapp.get("/openapi.json").json
    posts = [
        (path, item["post"])
        for path, item in document["paths"].items()
        if "post" in item
    ]
    assert len(posts) > 25
    for path, operation in posts:
        (media, content), *_ = operation["requestBody"]["content"].items()
        if media == "application/json":
            headers = {
                p["name"] for p in operation["parameters"] if p["in"] == "header"
            }
            assert "X-CSRF-Token" in headers, path
        else:
            assert "csrf_token" in content["schema"]["required"], path


def test_form_bodies_come_from_the_forms_schemas(testapp):
    paths = testapp.get("/openapi.json").json["paths"]
    form = "application/x-www-form-urlencoded"
    register = paths["/register"]["post"]["requestBody"]["content"][form]["schema"]
    fields = [node.name for node in RegisterForm().children]
    assert list(register["properties"]) == [*fields, "csrf_token"]
    assert register["required"] == [*fields, "csrf_token"]
    assert register["properties"]["login"]["maxLength"] == 64
    bulk = paths["/users/@@bulk"]["post"]["requestBody"]["content"][form]["schema"]
    # The selected logins are the field repeated; the action one of a few.
    assert bulk["properties"]["login"]["type"] == "array"
    assert bulk["properties"]["login"]["maxItems"] == 500
    assert bulk["properties"]["action"]["enum"] == list(
        BulkForm().get("action").validator.choices
    )
    # The re-authentication password is asked for only when the sign-in is
    # old: never required by the document.
    roles = paths["/users/{login}/@@admin-roles"]["post"]["requestBody"]["content"]
    assert "current_password" not in roles[form]["schema"]["required"]
    assert roles[form]["schema"]["properties"]["roles"]["uniqueItems"] is True
    upload = paths["/users/@@import"]["post"]["requestBody"]["content"]
    assert "file" in upload["multipart/form-data"]["schema"]["required"]


def test_a_listing_offers_its_orders_and_filters(testapp):
    paths = testapp.get("/openapi.json").json["paths"]
    users = {p["name"]: p["schema"] for p in paths["/users/"]["get"]["parameters"]}
    assert "-last_sign_in" in users["order_by"]["enum"]
    assert users["state"]["enum"][0] == ""  # empty is any
    assert "enum" not in users["email"]  # a search is free text
    reports = {p["name"] for p in paths["/reports/"]["get"]["parameters"]}
    assert reports == {"limit", "order_by", "cursor", "start"}


def test_colander_constraints_as_json_schema():
    class Form(colander.MappingSchema):
        both = colander.SchemaNode(
            colander.String(),
            validator=colander.All(
                colander.Length(max=5), colander.Regex("^a", "starts with a")
            ),
        )
        anything = colander.SchemaNode(colander.String(), title="", missing="")
        count = colander.SchemaNode(colander.Int())
        ticked = colander.SchemaNode(colander.Boolean(), missing=False)

    found = schema_of(Form())
    assert found["properties"]["both"] == {
        "type": "string",
        "maxLength": 5,
        "pattern": "^a",
        "title": "Both",
    }
    assert found["properties"]["anything"] == {"type": "string"}
    assert found["properties"]["count"]["pattern"] == "^[0-9]{1,19}$"
    assert found["properties"]["ticked"]["type"] == "string"
    assert found["required"] == ["both", "count"]
    # A deferred check stays the server's: nothing is claimed for it.
    assert schema_of(RolesForm())["properties"]["current_password"] == {
        "type": "string",
        "title": "Current Password",
    }


def test_a_package_may_describe_an_operation_lazily(app):
    # The directive is the registry's, for any configurator over it.
    config = Configurator(registry=app.registry)
    config.add_api_operation("/later", "GET", lambda: {"summary": "made late"})
    config.commit()
    assert operations(app.registry)[("/later", "get")] == {"summary": "made late"}


def test_two_packages_describing_one_operation_conflict(settings):
    config = Configurator(settings=settings)
    config.include("wingapp.openapi")
    config.add_api_operation("/same", "post", {"summary": "one"})
    config.add_api_operation("/same", "POST", {"summary": "other"})
    with pytest.raises(ConfigurationConflictError):
        config.commit()
