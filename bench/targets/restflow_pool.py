"""restflow's endpoints, served by ``restflow.asgi`` (pooled request threads)."""

from bench.targets.restflow import urlpatterns

__all__ = ["urlpatterns"]
