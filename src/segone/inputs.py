"""What every input model shares: strict scalar types, and names that are never blank.

The API validates request bodies as Python objects, where pydantic's lax mode turns ``0`` into ``False``
and ``"5"`` into ``5``; a client that sends those has a bug we should report, not guess around. Models
that take input derive from ``InputModel``, which makes their booleans, integers and floats strict
(a float still takes an integer), wherever the type appears: alone, optional, or in a list. Dates, enums
and the other types keep parsing their text forms, which JSON and the web forms need.
"""

from __future__ import annotations

import types
from typing import Annotated, Any, Union, get_args, get_origin

from pydantic import BaseModel, Field, Strict, StringConstraints

# A name people read and tell things apart by: surrounding spaces dropped, at least one character left.
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]

# Free text that every backend stores alike: PostgreSQL refuses the NUL character, so the schema says so
# (the InputGuard of the API refuses it in any JSON string too, with the same message).
NO_NUL = r"^[^\x00]*$"
Text = Annotated[str, Field(pattern=NO_NUL)]

_STRICT = (bool, int, float)

# A key of a mapping (attribute names, deliverables scored by name) is never empty.
_Key = Annotated[str, StringConstraints(min_length=1)]


def _strict(annotation: Any, *, text: bool) -> Any:
    """The annotation with strict scalars, and (when ``text``) strings that say they hold no NUL."""
    if annotation in _STRICT:
        return Annotated[annotation, Strict()]
    if get_origin(annotation) is Annotated and any(isinstance(m, Strict) for m in get_args(annotation)):
        return annotation
    if annotation is str:
        return Text if text else str
    origin = get_origin(annotation)
    args = get_args(annotation)
    if origin is Annotated:
        inner, *metadata = args
        # The annotation's own pattern wins: an outer one would replace it.
        own = text and not any(getattr(m, "pattern", None) for m in metadata)
        return Annotated[(_strict(inner, text=own), *metadata)]
    if origin in (Union, types.UnionType):
        return Union[tuple(_strict(arg, text=text) for arg in args)]  # noqa: UP007 - built at run time
    if origin in (list, set, frozenset):
        return origin[_strict(args[0], text=text)]
    if origin is dict:
        key = _Key if args[0] is str else args[0]
        return dict[key, _strict(args[1], text=text)]  # type: ignore[misc, valid-type]
    return annotation


class InputModel(BaseModel):
    """Base of the models that take input (API bodies, forms, CLI options): strict scalars, text without
    NUL characters and mapping keys that are not empty, each declared in the JSON schema too."""

    @classmethod
    def __pydantic_init_subclass__(cls, **kwargs: Any) -> None:
        super().__pydantic_init_subclass__(**kwargs)
        changed = False
        for field in cls.model_fields.values():
            own_pattern = any(getattr(m, "pattern", None) for m in field.metadata)
            strict = _strict(field.annotation, text=not own_pattern)
            if strict != field.annotation:
                field.annotation = strict
                changed = True
        if changed:
            cls.model_rebuild(force=True)
