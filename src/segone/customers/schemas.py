"""What the customers domain takes in and gives out."""

from __future__ import annotations

import enum
import re
from datetime import datetime
from typing import Any, NamedTuple

from pydantic import BaseModel, ConfigDict, Field, field_validator

from segone.importing import ImportReport

_SYSTEM = re.compile(r"^[a-z][a-z0-9_.-]{0,59}$")
_PHONE_PUNCTUATION = re.compile(r"[\s().\-/]")


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


def _check_attributes(values: dict[str, Any]) -> dict[str, Any]:
    for key, value in values.items():
        if not key.strip():
            raise ValueError("attribute names may not be empty")
        if not isinstance(value, str | int | float | bool) and value is not None:
            raise ValueError(f"attribute '{key}' must be text, a number, true/false or null")
    return values


class CustomerCreate(BaseModel):
    name: str = Field(min_length=1, max_length=300)
    kind: CustomerKind = CustomerKind.PERSON
    attributes: dict[str, Any] = Field(default_factory=dict)
    identities: list[str] = Field(default_factory=list, description="e.g. ['email:ann@example.com']")

    _identities = field_validator("identities")(_check_identities)
    _attributes = field_validator("attributes")(_check_attributes)

    @field_validator("name")
    @classmethod
    def _strip_name(cls, value: str) -> str:
        value = value.strip()
        if not value:
            raise ValueError("the name may not be blank")
        return value


class CustomerUpdate(BaseModel):
    name: str | None = Field(default=None, min_length=1, max_length=300)
    kind: CustomerKind | None = None
    attributes: dict[str, Any] | None = Field(
        default=None, description="Keys to set; a null value removes the key."
    )
    add_identities: list[str] = Field(default_factory=list)
    remove_identities: list[str] = Field(default_factory=list)

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
    merged_into_id: int | None


class MergeRequest(BaseModel):
    merged_id: int = Field(
        ge=1, le=2**31 - 1, description="The duplicate record; it is folded into this customer."
    )


class MergeOut(BaseModel):
    survivor: CustomerOut
    merged_id: int
    moved: dict[str, int]


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
