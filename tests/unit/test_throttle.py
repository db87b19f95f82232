"""Login throttling: by name and address, so typing someone's name locks nobody else out; a
slow-down per name; a limit per address that a trusted proxy's forwarded address feeds."""

import pytest

from annotation_kit.app import throttle
from annotation_kit.app.throttle import Throttle


def test_a_name_from_one_address_is_stopped_and_not_from_another():
    t = Throttle()
    for _ in range(throttle.PAIR_FAILURES):
        assert not t.refused_pair("ada", "10.0.0.9")
        t.failed("ada", "10.0.0.9")
    assert t.refused_pair("ada", "10.0.0.9")  # the attacker's address
    assert not t.refused_pair("ada", "10.0.0.1")  # ada herself, from her own desk
    assert not t.refused_pair("ann", "10.0.0.9")


def test_a_name_guessed_from_many_addresses_slows_down_and_recovers_on_success():
    t = Throttle()
    assert t.delay("ada") == 0
    for n in range(throttle.PAIR_FAILURES + 3):
        t.failed("ada", f"10.0.1.{n}")
    assert 0 < t.delay("ada") <= throttle.SLOW_MAX
    assert t.delay("nobody") == 0
    t.succeeded("ada", "10.0.0.1")
    assert t.delay("ada") == 0


def test_an_address_is_stopped_after_many_failures_whatever_the_names(monkeypatch):
    t = Throttle()
    for n in range(throttle.ADDRESS_FAILURES):
        assert not t.refused_address("10.0.0.9")
        t.failed(f"user{n}", "10.0.0.9")
    assert t.refused_address("10.0.0.9") and not t.refused_address("10.0.0.8")
    clock = [0.0]
    monkeypatch.setattr(throttle.time, "monotonic", lambda: clock[0] + 1e9)
    assert not t.refused_address("10.0.0.9")  # the window has passed


def test_the_address_behind_a_trusted_proxy_only():
    direct = Throttle()
    assert direct.address("203.0.113.5", "10.1.1.1") == "203.0.113.5"  # not trusted: ignored
    proxied = Throttle(("127.0.0.1", "10.0.0.0/8"))
    assert proxied.address("127.0.0.1", "198.51.100.7, 10.2.3.4") == "198.51.100.7"
    assert proxied.address("127.0.0.1", None) == "127.0.0.1"
    assert proxied.address("203.0.113.5", "198.51.100.7") == "203.0.113.5"
    with pytest.raises(ValueError, match="does not appear to be an IPv4 or IPv6 network"):
        Throttle(("not an address",))
