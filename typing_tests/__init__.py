"""Static typing tests: checked by mypy and basedpyright, never run by pytest."""
