"""The baseline: a bare Pyramid app answering one short HTML page."""

from pyramid.config import Configurator
from pyramid.response import Response


def hello(request):
    return Response("<!DOCTYPE html><title>hello</title><h1>hello</h1>")


def make_app():
    with Configurator() as config:
        config.add_route("hello", "/")
        config.add_view(hello, route_name="hello")
    return config.make_wsgi_app()
