"""Personalisation: the offerings ("packages of value") the business sells, and what builds on them."""
