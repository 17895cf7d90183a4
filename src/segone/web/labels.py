"""The words pages use for stored values: channels, how sure we are, the gist of an encounter."""

from __future__ import annotations

from segone.channels import Channel
from segone.encounters.schemas import EncounterOut

CHANNEL_LABELS = {
    Channel.MEETING: "Meeting",
    Channel.CALL: "Call",
    Channel.EMAIL: "E-mail",
    Channel.CHAT: "Chat",
    Channel.STORE: "Store visit",
    Channel.OTHER: "Other",
}

# How sure we are, in words an associate would use; the numbers are what the service stores.
CONFIDENCE_CHOICES = (("0.95", "Sure"), ("0.8", "Fairly sure"), ("0.5", "Not sure yet"))


def confidence_label(value: float) -> str:
    if value >= 0.9:
        return "sure"
    if value >= 0.65:
        return "fairly sure"
    return "not sure yet"


def confidence_choice(value: float) -> str:
    """The choice nearest to a stored confidence, for pre-filling a form."""
    return min(CONFIDENCE_CHOICES, key=lambda choice: abs(float(choice[0]) - value))[0]


def channel_label(channel: str | None) -> str:
    if channel is None:
        return ""
    try:
        return CHANNEL_LABELS[Channel(channel)]
    except ValueError:
        return channel


def encounter_preview(encounter: EncounterOut) -> str:
    """The first line of the notes (or of what they care or worry about), at most 140 characters."""
    text = encounter.notes or encounter.cares_about or encounter.worries_about
    first = text.strip().splitlines()[0] if text.strip() else ""
    return first if len(first) <= 140 else first[:137].rstrip() + "…"
