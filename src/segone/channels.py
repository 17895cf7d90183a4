"""Where the business meets its customers: the channels of encounters and of facts learned."""

from __future__ import annotations

import enum


class Channel(enum.StrEnum):
    MEETING = "meeting"
    CALL = "call"
    EMAIL = "email"
    CHAT = "chat"
    STORE = "store"
    OTHER = "other"
