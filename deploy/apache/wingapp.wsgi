# The script Apache's WSGIScriptAlias names. It hands mod_wsgi the
# application and, where Apache's environment names the ini (WINGAPP_INI in
# /etc/apache2/envvars, see wingapp.conf), builds it right away: mod_wsgi
# imports this script in each daemon process as the process starts, so no
# request waits for the app to load. If loading fails, the error log says
# why and requests are answered 503 until a request loads it.
#
# Touching this file reloads the app: mod_wsgi restarts the daemon
# processes one request at a time and retries that request in the new
# process, so a deploy loses nothing (unlike `apachectl graceful`).
from wingapp.wsgi import application

application.preload()
