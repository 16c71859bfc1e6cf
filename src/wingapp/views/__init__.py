"""Views that belong to the site as a whole: home, folders, errors."""

from .templates import lock_compilation


def includeme(config) -> None:
    lock_compilation()
    config.add_static_view("static", "wingapp:static", cache_max_age=3600)
    config.include(".api")
    config.scan(".")
