"""Views: read models and use cases that span several domains, built once and rendered by every entry point.

The customer sheet, the customer list, the home page, the top-10 exercise, merging two records,
recording a fact learned in an encounter and starting an export live here. A view calls the domains'
``service`` functions and returns their ``schemas`` (or its own, in ``views.schemas``); web, API and CLI
only render the result.
"""
