"""Run the demo shop: migrate, seed the demo user, print where everything is, serve.

``scripts/demo`` runs this file with the ``[demo]`` extra installed::

    python example/demo.py [--host 127.0.0.1] [--port 8000]

The database (SQLite, ``SHOP_DB``) is created and filled with sample products and reviews
by the migrations; the user below is created (or its password reset) on every start. The
server is uvicorn on ``shop_project.asgi`` (restflow's ASGI handler).
"""

from __future__ import annotations

import argparse
import os
import sys

#: The demo account: log in with it in the browsable API, or trade it for a token.
DEMO_USERNAME = "demo"
DEMO_PASSWORD = "restflow-demo"


def seed_user() -> None:
    """Create the demo user, or give it the documented password back."""
    from django.contrib.auth import get_user_model

    user, _ = get_user_model().objects.get_or_create(username=DEMO_USERNAME)
    user.set_password(DEMO_PASSWORD)
    user.save()


def banner(base: str) -> str:
    """Where the demo's pages are, and how to log in."""
    rows = [
        ("API root (browsable)", f"{base}/api/"),
        ("Log in (browser)", f"{base}/api-auth/login/"),
        ("API token", f"POST {base}/api/token/ with username and password"),
        ("Swagger UI", f"{base}/api/schema/swagger-ui/"),
        ("Redoc", f"{base}/api/schema/redoc/"),
        ("OpenAPI schema", f"{base}/api/schema/"),
    ]
    lines = [f"restflow demo shop on {base}/ (Ctrl-C to stop)", ""]
    lines += [f"  {name:<22}{where}" for name, where in rows]
    lines += ["", f'  Demo user: username "{DEMO_USERNAME}", password "{DEMO_PASSWORD}"', ""]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Run the restflow demo shop.")
    parser.add_argument("--host", default=os.environ.get("HOST", "127.0.0.1"))
    parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))
    options = parser.parse_args(argv)

    here = os.path.dirname(os.path.abspath(__file__))
    sys.path.insert(0, here)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "shop_project.settings")

    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", interactive=False, verbosity=1)
    seed_user()
    print("\n" + banner(f"http://{options.host}:{options.port}"), flush=True)

    import uvicorn

    uvicorn.run("shop_project.asgi:application", host=options.host, port=options.port)


if __name__ == "__main__":
    main()
