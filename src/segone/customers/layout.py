"""The columns of a customers file: what the import reads and the export writes (docs/import.md).

``name``, ``kind``, the identity columns (``email``, ``phone``, ``identity:<system>``, ``identities``) and
``id`` (segone's number of the customer, which an export writes and an import ignores: customers are
matched by their identities) and the consent columns (``consent:contact``, ``consent:profiling``,
``consent:personalisation``: yes or no, empty where nothing is recorded) are the file's own; every other
column is an attribute, named as in the header or, with ``attribute:`` before it, named as the rest of the
header says (for attributes named like one of the file's own columns, such as an attribute ``email``).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

from segone.customers.schemas import ConsentPurpose

IDENTITY_PREFIX = "identity:"
ATTRIBUTE_PREFIX = "attribute:"
CONSENT_PREFIX = "consent:"
ID = "id"
OWN_COLUMNS = ("id", "name", "kind", "email", "phone", "identities")
"""The columns that are not attributes (compared without case), besides ``identity:``, ``attribute:`` and
``consent:`` columns."""
CONSENT_COLUMNS = {purpose: CONSENT_PREFIX + purpose.value for purpose in ConsentPurpose}
"""The column of each purpose's consent."""


def attribute_headers(keys: Iterable[str]) -> dict[str, str]:
    """The header of each attribute's column in an export: the attribute's name where the import reads it
    back as that attribute, else ``attribute:<name>`` (a name of the file's own columns, one that differs
    from another only by case, or one with spaces around it)."""
    keys = list(keys)
    folded = Counter(key.lower() for key in keys)
    headers = {}
    for key in keys:
        lower = key.lower()
        plain = (
            key == key.strip()
            and bool(key)
            and lower not in OWN_COLUMNS
            and not lower.startswith((IDENTITY_PREFIX, ATTRIBUTE_PREFIX, CONSENT_PREFIX))
            and folded[lower] == 1
        )
        headers[key] = key if plain else ATTRIBUTE_PREFIX + key
    return headers
