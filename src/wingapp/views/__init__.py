"""Views that belong to the site as a whole: home, folders, errors."""


def includeme(config) -> None:
    config.add_static_view("static", "wingapp:static", cache_max_age=3600)
    config.scan(".")
