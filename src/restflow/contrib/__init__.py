"""Integrations with third-party packages, each behind an optional extra.

Nothing here is imported by ``restflow`` itself: import a submodule only when its
extra is installed (``restflow.contrib.spectacular`` needs ``django-restflow[spectacular]``).
"""

__all__: list[str] = []
