"""The contact exports of CRMs, as the column mapping a customers import applies for them (``--preset``).

A preset is a ``--map`` written once: each field reads the columns of the export that the file holds
(several joined, as ``name=First Name+Last Name``), and a ``--map`` given with it wins field by field.
Every column a preset does not take is an attribute under its own title, as in any file.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from segone.errors import Invalid
from segone.importing.columns import JOIN

# field -> the export's columns that give it, in order; the first name and last name are joined, each
# phone column is a phone identity of its own.
PRESETS: Mapping[str, Mapping[str, tuple[str, ...]]] = {
    # HubSpot: Contacts > Export (the default properties, in English).
    "hubspot": {
        "identity:hubspot": ("Record ID",),
        "name": ("First Name", "Last Name"),
        "email": ("Email",),
        "phone": ("Phone Number", "Mobile Phone Number"),
        "company": ("Company Name",),
    },
    # Salesforce: a contacts report exported as CSV (column labels, not API names).
    "salesforce": {
        "identity:salesforce": ("Contact ID",),
        "name": ("First Name", "Last Name"),
        "email": ("Email",),
        "phone": ("Phone", "Mobile"),
        "company": ("Account Name",),
    },
}


def preset_mapping(preset: str, header: Sequence[str]) -> dict[str, str]:
    """The mapping ``preset`` gives the columns this header holds (compared without case and spaces
    around them); a field none of whose columns is there is left out. Raises ``Invalid`` for an unknown
    preset."""
    fields = PRESETS.get(preset.strip().lower())
    if fields is None:
        raise Invalid(f"Unknown preset '{preset}'; presets: {', '.join(PRESETS)}.")
    titles = {title.strip().casefold(): title for title in reversed(header)}
    mapping: dict[str, str] = {}
    for field, columns in fields.items():
        present = [titles[column.casefold()] for column in columns if column.casefold() in titles]
        if present:
            mapping[field] = JOIN.join(present)
    return mapping
