"""restflow's views with DRF's own ``ModelSerializer`` (the one every other target uses)."""

from bench.targets import common
from bench.targets.restflow import paths

urlpatterns = paths(common.ProductSerializer, common.ProductLatestSerializer)

__all__ = ["urlpatterns"]
