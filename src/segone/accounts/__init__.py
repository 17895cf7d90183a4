"""Users, teams, roles and permissions, API tokens and the audit trail."""
