"""Renderers: DRF's ``JSONRenderer`` output, encoded faster.

``restflow.renderers.JSONRenderer`` writes the same bytes as DRF's
``rest_framework.renderers.JSONRenderer``, with ``orjson`` where it is installed
(``pip install django-restflow[fast]``) and DRF's ``json.dumps`` code otherwise.
restflow's views use it by themselves wherever DRF's ``JSONRenderer`` was
negotiated; list it in ``DEFAULT_RENDERER_CLASSES`` to use it on DRF's views too.
"""

from __future__ import annotations

from restflow._fastjson import JSONRenderer

__all__ = ["JSONRenderer"]
