"""The service strategy on record: statements, exceptions with limits per role, recovery targets."""
