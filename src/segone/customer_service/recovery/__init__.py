"""Recovery cases: when we fall short, recovery is our #1 priority."""
