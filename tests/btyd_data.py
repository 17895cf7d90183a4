"""Where the tests find the BG/BB donations and the sBG retention data, inside the repository.

``tests/data/donations/`` (Fader, Hardie & Berger 2010, via Lifetimes 0.11.3) and ``tests/data/retention/``
(Fader & Hardie 2007, Table 1); each folder's README gives the source.
"""

from __future__ import annotations

from pathlib import Path

DATA = Path(__file__).resolve().parent / "data"
DONATIONS = DATA / "donations" / "donations.csv"
SURVIVORS = DATA / "retention" / "survivors.csv"
