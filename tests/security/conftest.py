"""The CLI's fixtures (a store in a temporary data directory), for the path tests here."""

from tests.cli.conftest import data_dir, segone, store

__all__ = ["data_dir", "segone", "store"]
