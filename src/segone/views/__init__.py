"""The composition layer: read models and use cases that span several domains, built once and rendered by
every entry point (web, API, CLI)."""
