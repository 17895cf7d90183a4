"""Segment of One: learn what makes each customer different, until each is a segment of one."""

__version__ = "0.1.0"
