"""Promises made to customers: what, by whom, by when; kept or broken."""
