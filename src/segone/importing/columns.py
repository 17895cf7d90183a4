"""Which column of a file holds which field an import reads: by name, by alias, or by an explicit map
(``segone events import --map customer=cust_id,timestamp=date``). A map may join columns where the
import allows it (``segone customers import --map "name=First Name+Last Name"``)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from segone.errors import Invalid

JOIN = "+"


def normalise_header(title: str) -> str:
    """How a header cell is compared with a field: ``" Learned By"`` -> ``"learned_by"``."""
    return title.strip().lower().replace(" ", "_").replace("-", "_")


def parse_mapping(text: str | None) -> dict[str, str] | None:
    """``"customer=cust_id,timestamp=date"`` -> ``{"customer": "cust_id", "timestamp": "date"}``.

    A column stays as written (``"First Name+Last Name"``): which columns it names is for
    ``column_positions`` to say, with the file's header at hand.
    """
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


def column_positions(header: Sequence[str], column: str, *, joins: bool = False) -> tuple[int, ...]:
    """Where the column a mapping names is: its title as written, else compared without case and
    surrounding spaces; with ``joins``, ``"A+B"`` (when no column is titled so) names A and B.

    Raises ``Invalid`` naming a column the header does not have.
    """
    exact = {title: index for index, title in reversed(list(enumerate(header)))}
    loose = {title.strip().casefold(): index for index, title in reversed(list(enumerate(header)))}

    def position(name: str) -> int | None:
        found = exact.get(name)
        return found if found is not None else loose.get(name.strip().casefold())

    whole = position(column)
    if whole is not None:
        return (whole,)
    parts = [part.strip() for part in column.split(JOIN)] if joins and JOIN in column else [column]
    positions = [position(part) for part in parts]
    missing = [part for part, found in zip(parts, positions, strict=True) if found is None]
    if missing:
        titles = ", ".join(f"'{title.strip()}'" for title in header if title.strip()) or "none"
        raise Invalid(
            f"The mapping names column '{missing[0]}', which the input does not have (its columns: {titles})."
        )
    return tuple(index for index in positions if index is not None)


@dataclass(frozen=True)
class Source:
    """Where an import reads one of its fields, or one column under its own title, from a row."""

    name: str
    """The field (``name``, ``email``...) or, for a column no mapping takes, its title."""
    label: str
    """The column(s) as the file names them, for problems: ``Email``, ``First Name+Last Name``."""
    positions: tuple[int, ...]

    def cells(self, values: Sequence[str]) -> list[str]:
        """The row's non-empty values of these columns, stripped, in the mapping's order."""
        if len(self.positions) == 1:  # nearly always: spare a hundred thousand rows the comprehension
            cell = values[self.positions[0]].strip()
            return [cell] if cell else []
        return [cell for index in self.positions if (cell := values[index].strip())]

    def text(self, values: Sequence[str]) -> str:
        """The row's value: of its one column, stripped, or of its columns joined by a space."""
        if len(self.positions) == 1:
            return values[self.positions[0]].strip()
        return " ".join(self.cells(values))


def mapped_sources(
    header: Sequence[str], mapping: Mapping[str, str] | None
) -> tuple[list[Source], list[int]]:
    """A file's columns as an import with an open set of fields reads them (customers: any column is an
    attribute): each mapped field from its column or joined columns, then each column no mapping takes,
    under its own title. Also returns the positions of columns left out because a mapped field has their
    title (a ``Name`` column when ``name`` is mapped to ``First Name+Last Name``).
    """
    sources: list[Source] = []
    taken: set[int] = set()
    for name, column in (mapping or {}).items():
        positions = column_positions(header, column, joins=True)
        label = JOIN.join(header[index].strip() for index in positions)
        sources.append(Source(name.strip(), label, positions))
        taken.update(positions)
    mapped = {normalise_header(source.name) for source in sources}
    shadowed: list[int] = []
    for index, title in enumerate(header):
        if index in taken:
            continue
        if title.strip() and normalise_header(title) in mapped:
            shadowed.append(index)
        else:
            sources.append(Source(title.strip(), title.strip(), (index,)))
    return sources, shadowed


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
    for key, column in (mapping or {}).items():
        name = aliases.get(key, key)
        if name not in fields:
            raise Invalid(f"Unknown {noun} '{key}' in the column mapping; {noun}s: {', '.join(fields)}.")
        match.sources[name] = column_positions(header, column)[0]
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
