# The script Apache's WSGIScriptAlias names. All it does is hand mod_wsgi
# the application; the ini file comes from `SetEnv WINGAPP_INI ...` in the
# virtual host (see wingapp.conf).
#
# Touching this file reloads the app: mod_wsgi restarts the daemon
# processes one request at a time and retries that request in the new
# process, so a deploy loses nothing (unlike `apachectl graceful`).
from wingapp.wsgi import application  # noqa: F401
