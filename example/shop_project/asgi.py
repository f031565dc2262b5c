"""ASGI entry point of the demo shop (``uvicorn shop_project.asgi:application``).

restflow's handler (:mod:`restflow.asgi`: pooled request threads, ASGI lifespan),
wrapped in Django's static-files handler so the browsable API and the schema UI
get their CSS and scripts from the same server (a demo's shortcut; in production
put static files behind the web server or a CDN).

``SHOP_ASGI=django`` serves Django's stock handler instead (the server tests run
the demo under both).
"""

import os

from django.contrib.staticfiles.handlers import ASGIStaticFilesHandler
from django.core.asgi import get_asgi_application as get_django_asgi_application

from restflow.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "shop_project.settings")

if os.environ.get("SHOP_ASGI") == "django":
    application = ASGIStaticFilesHandler(get_django_asgi_application())
else:
    application = ASGIStaticFilesHandler(get_asgi_application())
