"""The analytics store: Ibis over DuckDB by default, PySpark or any Ibis backend by URL.

``backend.py`` is the only module that names an engine; the rest of the code builds Ibis expressions.
"""

from segone.analytics.backend import connect

__all__ = ["connect"]
