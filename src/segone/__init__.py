"""Segment of One: learn what makes each customer different, until each is a segment of one.

Analysts start with ``segone.connect()`` (see ``segone.analysts``); it is loaded on first use, so that
importing a part of segone (the CLI, a service) does not load the analytics engine.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from segone.version import __version__

if TYPE_CHECKING:
    from segone.analysts import Analysis, connect

__all__ = ["Analysis", "__version__", "connect"]


def __getattr__(name: str) -> Any:
    if name in ("Analysis", "connect"):
        from segone import analysts

        return getattr(analysts, name)
    raise AttributeError(f"module 'segone' has no attribute {name!r}")
