"""WSGI entry for the served DRF sync run (gunicorn, threaded workers)."""

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings")

from django.core.wsgi import get_wsgi_application

application = get_wsgi_application()
