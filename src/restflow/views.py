"""restflow's views: DRF's view stack, typed, with an async dispatch loop.

Everything a view module of a restflow project imports lives here.
"""

from restflow._apiview import APIView, AsyncAPIView

__all__ = ["APIView", "AsyncAPIView"]
