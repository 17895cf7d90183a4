"""Failed sign-ins and API token checks, counted per account and per client address.

Only failures count, in a moving window (the ``limits`` package). Once an account or an address has used
up its failures, every attempt is refused *before* the password or token is looked at: a guesser learns
nothing more, however right the next guess. A successful sign-in clears its account's count (the limit is
on failures in a row), never its address's, so signing in to one's own account does not buy a guesser
more tries at another.

Counted in memory (``memory://``, the default) each server process counts on its own: with
``segone serve --workers N`` each worker allows a share of the limit, limit / N rounded up, so that all
of them together allow about the limit (at most N - 1 more, the rounding; never a share of 0) however a
guesser's attempts spread over the workers. A shared storage (``redis://``) keeps one count, and the
exact limit.
"""

from __future__ import annotations

import math
import time

from limits import RateLimitItem, parse
from limits.storage import storage_from_string
from limits.strategies import MovingWindowRateLimiter

from segone.errors import TooManyAttempts
from segone.settings import Settings

_NAMESPACE = "segone.auth"


class AuthThrottle:
    def __init__(
        self, *, per_account: str, per_address: str, storage_url: str = "memory://", processes: int = 1
    ) -> None:
        """``processes``: how many server processes count on their own in memory (``memory://``)."""
        self._limiter = MovingWindowRateLimiter(storage_from_string(storage_url))
        shares = processes if storage_url.startswith("memory://") else 1
        self._per_account = _share_of(parse(per_account), shares)
        self._per_address = _share_of(parse(per_address), shares)

    @classmethod
    def from_settings(cls, settings: Settings) -> AuthThrottle:
        return cls(
            per_account=settings.auth_failures_per_account,
            per_address=settings.auth_failures_per_address,
            storage_url=settings.auth_limit_storage,
            processes=settings.workers,
        )

    @property
    def limits(self) -> tuple[int, int]:
        """The failures this process allows per account and per address in their windows."""
        return self._per_account.amount, self._per_address.amount

    def _keys(self, address: str, account: str | None) -> list[tuple[RateLimitItem, str, str]]:
        keys = [(self._per_address, "address", address)]
        if account is not None:
            keys.append((self._per_account, "account", _account_key(account)))
        return keys

    def check(self, *, address: str, account: str | None = None) -> None:
        """Raise TooManyAttempts when this address (or account) has no failures left in its window."""
        for item, kind, key in self._keys(address, account):
            if not self._limiter.test(item, _NAMESPACE, kind, key):
                reset_at = self._limiter.get_window_stats(item, _NAMESPACE, kind, key).reset_time
                retry_after = max(1, math.ceil(reset_at - time.time()))
                what = "sign-ins for this account" if kind == "account" else "attempts from your address"
                raise TooManyAttempts(
                    f"Too many failed {what}; try again in {_wait_words(retry_after)}.",
                    retry_after=retry_after,
                )

    def failed(self, *, address: str, account: str | None = None) -> None:
        for item, kind, key in self._keys(address, account):
            self._limiter.hit(item, _NAMESPACE, kind, key)

    def succeeded(self, *, account: str) -> None:
        self._limiter.clear(self._per_account, _NAMESPACE, "account", _account_key(account))


def _share_of(item: RateLimitItem, shares: int) -> RateLimitItem:
    """One process's share of a limit counted by ``shares`` processes on their own: rounded up, at least 1."""
    if shares <= 1:
        return item
    return type(item)(max(1, math.ceil(item.amount / shares)), item.multiples, item.namespace)


def _account_key(email: str) -> str:
    # The form of the address that finds the user, so 'Ann@X.org ' and 'ann@x.org' share one count.
    return email.strip().lower()


def _wait_words(seconds: int) -> str:
    if seconds < 90:
        return f"{seconds} second{'s' if seconds != 1 else ''}"
    minutes = math.ceil(seconds / 60)
    return f"{minutes} minutes"
