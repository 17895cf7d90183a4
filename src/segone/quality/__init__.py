"""Service quality, measured: report cards, their ratings, the monthly review and its action plans."""
