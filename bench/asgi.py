"""ASGI entry for the served runs: ``BENCH_HANDLER=pool`` uses ``restflow.asgi``."""

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings")

if os.environ.get("BENCH_HANDLER") == "pool":
    from restflow.asgi import get_asgi_application
else:
    from django.core.asgi import get_asgi_application

application = get_asgi_application()
