"""Where the tests find the real CDNOW data, all of it inside the repository.

The transaction logs are the gzipped copies segone ships (``src/segone/behaviour/data/``); the papers'
calibration summaries are test data (``tests/data/cdnow/``, with their source).
"""

from __future__ import annotations

from pathlib import Path

from segone.behaviour.events import cdnow_path

SUMMARIES = Path(__file__).resolve().parent / "data" / "cdnow"
SUMMARY = SUMMARIES / "cdnow_customers_summary.csv"
WITH_TRANSACTIONS = SUMMARIES / "cdnow_customers_summary_with_transactions.csv"
SAMPLE_LOG = cdnow_path("CDNOW_sample.txt")  # gzipped; pandas and pyarrow read it as it is
