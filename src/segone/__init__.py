"""Segment of One: learn what makes each customer different, until each is a segment of one."""

from segone.analysts import Analysis, connect

__version__ = "0.1.0"

__all__ = ["Analysis", "__version__", "connect"]
