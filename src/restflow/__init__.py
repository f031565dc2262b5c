"""restflow: a typed, async-first port of Django REST framework's view stack."""

__all__ = ["__version__"]

__version__ = "0.1.0"
