"""Which column of a file holds which field an import reads: by name, by alias, or by an explicit map
(``segone events import --map customer=cust_id,timestamp=date``)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from segone.errors import Invalid


def normalise_header(title: str) -> str:
    """How a header cell is compared with a field: ``" Learned By"`` -> ``"learned_by"``."""
    return title.strip().lower().replace(" ", "_").replace("-", "_")


def parse_mapping(text: str | None) -> dict[str, str] | None:
    """``"customer=cust_id,timestamp=date"`` -> ``{"customer": "cust_id", "timestamp": "date"}``."""
    if not text:
        return None
    mapping: dict[str, str] = {}
    for part in text.split(","):
        name, sep, column = part.partition("=")
        if not sep or not name.strip() or not column.strip():
            raise Invalid(
                f"--map takes field=column pairs separated by commas, e.g. customer=cust_id; not '{part}'."
            )
        mapping[name.strip()] = column.strip()
    return mapping


@dataclass
class ColumnMatch:
    sources: dict[str, int] = field(default_factory=dict)
    """Each field found, and the position of its column."""
    repeated: list[str] = field(default_factory=list)
    """Columns naming a field an earlier column names too (as written in the file)."""
    ignored: list[str] = field(default_factory=list)
    """Named columns that hold no field (as written in the file)."""

    def names(self, header: Sequence[str]) -> dict[str, str]:
        """Each field found, and the name of its column."""
        return {name: header[index] for name, index in self.sources.items()}


def match_columns(
    header: Sequence[str],
    fields: Sequence[str],
    *,
    aliases: Mapping[str, str] | None = None,
    mapping: Mapping[str, str] | None = None,
    exact: bool = False,
    noun: str = "field",
) -> ColumnMatch:
    """Match a file's columns to ``fields``.

    ``mapping`` names the column of a field (``{"customer": "cust_id"}``); other fields take the column
    of their name, compared by ``normalise_header`` unless ``exact``, or of one of their ``aliases``
    (``{"timestamp": "ts"}``: alias -> field) when no column has the field's own name. Raises ``Invalid``
    when the mapping names an unknown field or a column the file does not have.
    """
    aliases = aliases or {}
    match = ColumnMatch()
    positions = {title: index for index, title in reversed(list(enumerate(header)))}
    for key, column in (mapping or {}).items():
        name = aliases.get(key, key)
        if name not in fields:
            raise Invalid(f"Unknown {noun} '{key}' in the column mapping; {noun}s: {', '.join(fields)}.")
        if column not in positions:
            raise Invalid(f"The mapping names column '{column}', which the input does not have.")
        match.sources[name] = positions[column]
    mapped = set(match.sources)
    aliased: list[tuple[str, int]] = []
    for index, title in enumerate(header):
        key = title if exact else normalise_header(title)
        if key in fields and key not in mapped:
            if key in match.sources:
                match.repeated.append(title.strip())
            else:
                match.sources[key] = index
        elif key in aliases and aliases[key] not in mapped:
            aliased.append((aliases[key], index))
        elif key not in fields and title.strip():
            match.ignored.append(title.strip())
    for name, index in aliased:
        if name not in match.sources:
            match.sources[name] = index
        elif name not in mapped:
            match.repeated.append(header[index].strip())
    return match
