"""Behaviour: events, the metrics computed from them, and buy-till-you-die models."""
