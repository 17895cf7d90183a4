"""Rating links: an address per external customer, card and period, signed with the server's secret key, that
opens the rating form without signing in and works for that customer, card and period only.

The token carries the three ids and an HMAC signature (``itsdangerous``); nothing is stored. A link opens
the form until the end of the period after the one it is for, and a customer rates once per period.
"""

from __future__ import annotations

from dataclasses import dataclass

from itsdangerous import BadSignature, URLSafeSerializer

SALT = "segone.quality.rating-link"
PATH = "/r/"


@dataclass(frozen=True)
class LinkClaims:
    card_id: int
    customer_id: int
    period: str


def _serializer(secret: str) -> URLSafeSerializer:
    return URLSafeSerializer(secret, salt=SALT)


def sign(secret: str, claims: LinkClaims) -> str:
    token: str = _serializer(secret).dumps([claims.card_id, claims.customer_id, claims.period])
    return token


def read(secret: str, token: str) -> LinkClaims | None:
    """The link's card, customer and period; None for a token this server did not sign (or one altered)."""
    try:
        loaded = _serializer(secret).loads(token)
    except BadSignature:
        return None
    if (
        not isinstance(loaded, list)
        or len(loaded) != 3
        or not isinstance(loaded[0], int)
        or not isinstance(loaded[1], int)
        or not isinstance(loaded[2], str)
    ):
        return None
    return LinkClaims(loaded[0], loaded[1], loaded[2])
