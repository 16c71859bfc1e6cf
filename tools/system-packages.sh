#!/usr/bin/env bash
# Installs the Debian packages the test suite needs, only when one is
# missing, and starts PostgreSQL if it is installed but stopped.
set -euo pipefail

need=()
command -v psql >/dev/null || need+=(postgresql)
# Headless browser for tests/integration/test_browser.py (Playwright drives it).
[[ -x /usr/bin/chromium ]] || need+=(chromium)
# Apache and mod_wsgi, which pip builds against the system Python
# (tests/integration/test_modwsgi.py): the server, apxs, Python's headers and
# venv module; a compiler and libpq for psycopg2, which pip and buildout
# (tests/integration/test_buildout.py) build from source.
[[ -x /usr/sbin/apache2 ]] || need+=(apache2)
command -v apxs >/dev/null || need+=(apache2-dev)
/usr/bin/python3 -c 'import ensurepip' 2>/dev/null || need+=(python3-venv)
compgen -G '/usr/include/python3*/Python.h' >/dev/null || need+=(python3-dev)
command -v pg_config >/dev/null || need+=(libpq-dev)
command -v gcc >/dev/null || need+=(build-essential)
# weasyprint renders the reports' PDF with the system's pango and needs at
# least one font; poppler's tools read the PDF back in
# tests/unit/test_reports_pdf.py.
compgen -G '/usr/lib/*/libpango-1.0.so.0' >/dev/null || need+=(libpango-1.0-0)
compgen -G '/usr/lib/*/libpangoft2-1.0.so.0' >/dev/null || need+=(libpangoft2-1.0-0)
[[ -n $(fc-list 2>/dev/null) ]] || need+=(fonts-dejavu-core)
command -v pdftoppm >/dev/null || need+=(poppler-utils)
# The HTTP load generator `make bench` drives (bench/run.py): a C client,
# so the client's own cost stays small next to the servers it measures.
command -v wrk >/dev/null || need+=(wrk)

if ((${#need[@]})); then
    if [[ $(id -u) -ne 0 ]]; then
        echo "system-packages: need root to install: ${need[*]}" >&2
        exit 1
    fi
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

if command -v pg_lsclusters >/dev/null; then
    if ! pg_isready -q -h 127.0.0.1 -p 5432; then
        for version in $(ls /etc/postgresql); do
            pg_ctlcluster --skip-systemctl-redirect "$version" main start || true
        done
        for _ in $(seq 30); do pg_isready -q -h 127.0.0.1 -p 5432 && break; sleep 1; done
    fi
fi
