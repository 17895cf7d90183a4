"""What the customers domain takes in and gives out."""

from __future__ import annotations

import enum
import json
import math
import re
from datetime import date, datetime
from typing import Annotated, Any, NamedTuple

from pydantic import BaseModel, ConfigDict, Field, computed_field, field_validator

from segone.importing import ImportReport
from segone.inputs import InputModel, Name

_SYSTEM = re.compile(r"^[a-z][a-z0-9_.-]{0,59}$")
_PHONE_PUNCTUATION = re.compile(r"[\s().\-/]")

# What parse_identity takes, for the schema: a system (a letter, then a-z 0-9 _ . -), a colon, an id.
# Declared only: parse_identity checks it, and says what is wrong in words a regular expression has not.
IDENTITY_PATTERN = r"^\s*[A-Za-z][A-Za-z0-9_.-]{0,59}\s*:\s*\S[^\x00]{0,299}$"
Identity = Annotated[
    str,
    Field(
        max_length=400, examples=["email:ann@example.com"], json_schema_extra={"pattern": IDENTITY_PATTERN}
    ),
]


class CustomerKind(enum.StrEnum):
    PERSON = "person"
    BUSINESS = "business"


def parse_identity(raw: str) -> tuple[str, str]:
    """``"Email: Ann@X.com "`` -> ``("email", "ann@x.com")``; raises ValueError with the reason."""
    system, sep, value = raw.strip().partition(":")
    system, value = system.strip().lower(), value.strip()
    if not sep or not value:
        raise ValueError(f"identity '{raw}' must look like 'system:id', e.g. 'email:ann@example.com'")
    if not _SYSTEM.match(system):
        raise ValueError(f"identity system '{system}' must start with a letter and hold only a-z, 0-9, _ . -")
    if len(value) > 300:
        raise ValueError("an identity's id may be at most 300 characters")
    if system == "email":
        value = value.lower()
    elif system == "phone":
        # "0113 496-0000" and "01134960000" are the same number.
        value = _PHONE_PUNCTUATION.sub("", value) or value
    return system, value


def _check_identities(values: list[str]) -> list[str]:
    normalised = []
    for raw in values:
        system, value = parse_identity(raw)
        normalised.append(f"{system}:{value}")
    if len(set(normalised)) != len(normalised):
        raise ValueError("the same identity is given twice")
    return normalised


AttributeValue = str | int | float | bool
_NUMBER = re.compile(r"^-?\d+(\.\d+)?([eE][-+]?\d+)?$")


def _kind_of(value: Any) -> str:
    if isinstance(value, list | tuple | set | frozenset):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return f"a {type(value).__name__}"


def attribute_value(key: str, value: Any) -> AttributeValue:
    """What is stored for an attribute: text, a number or true/false as given; a date (or date and time)
    as its ISO text, since JSON has no date type. Anything else (a list, an object) is refused."""
    if not key.strip():
        raise ValueError("attribute names may not be empty")
    if isinstance(value, str | bool | int):
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"attribute '{key}' must be a finite number")
        return value
    if isinstance(value, date):
        return value.isoformat()
    raise ValueError(f"attribute '{key}' must be text, a number, true/false or a date, not {_kind_of(value)}")


def _stored_attributes(values: dict[str, Any]) -> dict[str, AttributeValue]:
    # On a new customer a null sets nothing, as on an update it removes the key.
    return {key: attribute_value(key, value) for key, value in values.items() if value is not None}


def _attribute_changes(values: dict[str, Any] | None) -> dict[str, AttributeValue | None] | None:
    if values is None:
        return None
    return {key: None if value is None else attribute_value(key, value) for key, value in values.items()}


def attribute_text(value: Any) -> str:
    """An attribute's value as people read it on the sheet, in the CLI and in the edit form: yes/no for
    true/false, a number or text as it is, and never Python's repr (a list or object stored before lists
    were refused shows as JSON)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, str | int | float):
        return str(value)
    return json.dumps(value, ensure_ascii=False)


def attribute_from_text(text: str, *, like: Any = None) -> AttributeValue:
    """A value typed as text (the edit form) in the type of the value it replaces when it reads as one:
    a number stays a number and yes/no (or true/false) stays true/false; anything else is text."""
    word = text.strip()
    if isinstance(like, bool):
        if word.lower() in ("yes", "true"):
            return True
        if word.lower() in ("no", "false"):
            return False
    elif isinstance(like, int | float) and _NUMBER.match(word):
        try:
            number = float(word) if any(c in word for c in ".eE") else int(word)
        except (ValueError, OverflowError):  # more digits than Python reads as a number
            return text
        if isinstance(number, int) or math.isfinite(number):
            return number
    return text


class CustomerCreate(InputModel):
    name: str = Field(min_length=1, max_length=300)
    kind: CustomerKind = CustomerKind.PERSON
    attributes: dict[str, Any] = Field(
        default_factory=dict,
        description="Text, numbers, true/false or dates (ISO text, YYYY-MM-DD) by name; no lists or "
        "objects. A null sets nothing.",
    )
    identities: list[Identity] = Field(default_factory=list, description="e.g. ['email:ann@example.com']")

    _identities = field_validator("identities")(_check_identities)
    _attributes = field_validator("attributes")(_stored_attributes)

    @field_validator("name")
    @classmethod
    def _strip_name(cls, value: str) -> str:
        value = value.strip()
        if not value:
            raise ValueError("the name may not be blank")
        return value


class CustomerUpdate(InputModel):
    name: Name | None = Field(default=None, max_length=300)
    kind: CustomerKind | None = None
    attributes: dict[str, Any] | None = Field(
        default=None,
        description="Keys to set to text, a number, true/false or a date (ISO text); a null value removes "
        "the key.",
    )
    add_identities: list[Identity] = Field(default_factory=list)
    remove_identities: list[Identity] = Field(default_factory=list)
    version: int | None = Field(
        default=None,
        ge=1,
        le=2**31 - 1,
        description="The version the change was made from (or send it as `If-Match`): if the customer has "
        "changed since, nothing is changed and the answer is 409 with the current version. Left out, the "
        "change is made whatever the version (the last writer wins).",
    )

    _attributes = field_validator("attributes")(_attribute_changes)
    _add = field_validator("add_identities")(_check_identities)
    _remove = field_validator("remove_identities")(_check_identities)


class CustomerOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    kind: CustomerKind
    name: str
    attributes: dict[str, Any]
    identities: list[str]
    created_at: datetime
    updated_at: datetime
    since: datetime = Field(
        description="The customer's first activity: their first purchase (or other event), first "
        "encounter, or when they were added, whichever came first."
    )
    merged_into_id: int | None
    version: int = Field(description="Raised by every change; send it back with an update (`version`).")


class MergeRequest(InputModel):
    merged_id: int = Field(
        ge=1, le=2**31 - 1, description="The duplicate record; it is folded into this customer."
    )


class MergeOut(BaseModel):
    survivor: CustomerOut
    merged_id: int
    moved: dict[str, int]


class ConsentPurpose(enum.StrEnum):
    """What a customer may consent to: being contacted, being profiled (segments, scores, offers), and
    personalisation (offers and messages that use what we know of them)."""

    CONTACT = "contact"
    PROFILING = "profiling"
    PERSONALISATION = "personalisation"


class ImportOutcome(enum.StrEnum):
    CREATE = "create"
    UPDATE = "update"
    UNCHANGED = "unchanged"
    MERGE = "merge"
    BAD = "bad"


class ImportPreviewRow(BaseModel):
    """One row of the file as the import reads it, and what it does."""

    row: int = Field(description="Line of the file where the row starts.")
    name: str
    kind: CustomerKind | None = Field(
        description="The customer's kind after the import; null for a bad row that gives none."
    )
    identities: list[str]
    attributes: dict[str, str]
    consent: dict[ConsentPurpose, bool] = Field(
        default_factory=dict,
        description="The row's consent columns that hold a value: each purpose granted (true) or refused "
        "(false).",
    )
    outcome: ImportOutcome = Field(
        description="create, update or unchanged (the customer of this row), merge (folded into an "
        "earlier row's customer: see merged_with), or bad (see the report's errors)."
    )
    customer_id: int | None = Field(default=None, description="The existing customer the row updates.")
    merged_with: int | None = Field(default=None, description="The earlier row this row was merged with.")


class CustomerImportReport(ImportReport):
    """What a customer import did (or, in a dry run or when rows are bad, would do)."""

    created: int
    updated: int
    unchanged: int
    merged: int = Field(
        default=0,
        description="Rows that share an identity with an earlier row (or match the same customer) and "
        "were merged into that row's customer; each is named in the warnings.",
    )
    skipped: int = Field(default=0, description="Bad rows left out when skip_bad_rows is on.")
    preview: list[ImportPreviewRow] = Field(
        default_factory=list, description="The first rows of the file as they are imported."
    )


class CustomerRef(NamedTuple):
    """A customer as another domain needs to name it: its id, its kind and its name."""

    id: int
    kind: str
    name: str


class ConsentSource(enum.StrEnum):
    """Where a consent record came from."""

    FORM = "form"
    IMPORT = "import"
    API = "api"
    CLI = "cli"


class ConsentChange(InputModel):
    """The purposes to record, each granted (true) or refused (false); a purpose left out is unchanged."""

    model_config = ConfigDict(extra="forbid")

    contact: bool | None = None
    profiling: bool | None = None
    personalisation: bool | None = None
    note: str | None = Field(default=None, max_length=500, description="Why, or how the customer said so.")

    def changes(self) -> dict[ConsentPurpose, bool]:
        named = {purpose: getattr(self, purpose.value) for purpose in ConsentPurpose}
        return {purpose: granted for purpose, granted in named.items() if granted is not None}


class ConsentRecordOut(BaseModel):
    """One record of the consent history."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    purpose: ConsentPurpose
    granted: bool
    source: ConsentSource
    recorded_by: str
    recorded_at: datetime
    note: str | None = None


class PurposeConsent(BaseModel):
    """A customer's consent to one purpose now: the latest record, or the default when there is none."""

    purpose: ConsentPurpose
    granted: bool
    recorded: bool = Field(description="False: nothing is recorded, so the default applies.")
    recorded_by: str | None = None
    recorded_at: datetime | None = None
    source: ConsentSource | None = None


class ConsentOut(BaseModel):
    """A customer's consent per purpose now, and the history behind it (newest first)."""

    customer_id: int
    default: str = Field(description="granted or refused: what applies where nothing is recorded.")
    purposes: list[PurposeConsent]
    history: list[ConsentRecordOut]

    def granted(self, purpose: ConsentPurpose) -> bool:
        return next(p.granted for p in self.purposes if p.purpose is purpose)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def notice(self) -> str | None:
        """What the sheet and the briefing say when consent leaves the customer out of something."""
        if not self.granted(ConsentPurpose.PROFILING):
            return "No profiling consent: left out of segments, scores and offers."
        if not self.granted(ConsentPurpose.PERSONALISATION):
            return "No personalisation consent: no offers, and messages use none of their facts."
        return None
