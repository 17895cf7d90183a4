"""The ``segone`` command line: one Typer sub-app per domain, thin over the same services as the API."""
