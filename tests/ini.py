"""What the ini files that the tests and the benchmarks write share.

Kept apart from conftest, whose imports (pytest, WebTest, the app) a
benchmark that measures its own memory must not pay for.
"""

LOGGING = """
[loggers]
keys = root

[handlers]
keys = console

[formatters]
keys = generic

[logger_root]
level = WARN
handlers = console

[handler_console]
class = StreamHandler
args = (sys.stderr,)
level = NOTSET
formatter = generic

[formatter_generic]
format = %(levelname)s [%(name)s] %(message)s
"""
