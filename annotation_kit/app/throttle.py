"""Failed logins, slowed and stopped without letting anyone lock another person out.

- A user name typed from one address: after ``PAIR_FAILURES`` failures within ``WINDOW`` that
  pair is refused until the window has passed — with the same answer and the same work as a
  wrong password, so a locked name, an unknown name and a wrong password look alike.
- A user name from anywhere: after ``PAIR_FAILURES`` failures every further attempt waits a
  little longer (doubling up to ``SLOW_MAX`` seconds, on no thread: the caller sleeps
  asynchronously). Guessing slows down; the person themself can still log in from their
  own address.
- An address: ``ADDRESS_FAILURES`` failures within ``WINDOW`` and it must wait (this names no
  user). Behind a proxy the address is the client's the proxy reports, when the proxy is
  one of ``trusted`` (``annotation-kit serve --forwarded-allow-ips``).

Counts are kept per server process: they are about the attempts it saw.
"""

from __future__ import annotations

import ipaddress
import time
from collections import defaultdict

PAIR_FAILURES = 5
ADDRESS_FAILURES = 20
WINDOW = 600.0
SLOW_FIRST = 0.25
SLOW_MAX = 8.0
FROM_ADDRESS = "too many failed logins from this address: try again in a few minutes"


class Throttle:
    """Counts failed logins by (name, address), by name and by address."""

    def __init__(self, trusted: tuple[str, ...] = ()) -> None:
        self.trusted = [ipaddress.ip_network(item.strip(), strict=False) for item in trusted]
        self._failures: dict[tuple[str | None, str | None], list[float]] = defaultdict(list)

    def address(self, remote_ip: str | None, forwarded_for: str | None) -> str:
        """The client's address: the connection's, or the one a trusted proxy forwarded."""
        address = remote_ip or "?"
        if not forwarded_for or not self._is_trusted(address):
            return address
        hops = [hop.strip() for hop in forwarded_for.split(",") if hop.strip()]
        while hops and self._is_trusted(hops[-1]):
            hops.pop()  # proxies in front of proxies
        return hops[-1] if hops else address

    def _is_trusted(self, address: str) -> bool:
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:
            return False
        return any(ip in network for network in self.trusted)

    def _recent(self, key: tuple[str | None, str | None], now: float) -> list[float]:
        kept = [t for t in self._failures.get(key, ()) if now - t < WINDOW]
        if kept:
            self._failures[key] = kept
        else:
            self._failures.pop(key, None)
        return kept

    def refused_address(self, address: str) -> bool:
        """Whether ``address`` has failed too often to try now."""
        return len(self._recent((None, address), time.monotonic())) >= ADDRESS_FAILURES

    def refused_pair(self, name: str, address: str) -> bool:
        """Whether ``name`` from ``address`` has failed too often to be checked now."""
        return len(self._recent((name, address), time.monotonic())) >= PAIR_FAILURES

    def delay(self, name: str) -> float:
        """Seconds to wait before answering an attempt for ``name`` (0 until it failed often)."""
        over = len(self._recent((name, None), time.monotonic())) - PAIR_FAILURES
        return 0.0 if over < 0 else min(SLOW_MAX, SLOW_FIRST * 2**over)

    def failed(self, name: str, address: str) -> None:
        """Count a failure of ``name`` from ``address``."""
        now = time.monotonic()
        if len(self._failures) > 10_000:  # forget what is old
            for key in list(self._failures):
                self._recent(key, now)
        for key in ((name, address), (name, None), (None, address)):
            self._failures[key].append(now)

    def succeeded(self, name: str, address: str) -> None:
        """A good login: that pair and that name start again from nothing."""
        self._failures.pop((name, address), None)
        self._failures.pop((name, None), None)
