"""Customers: profiles of people and businesses, their external identities, and merges."""
