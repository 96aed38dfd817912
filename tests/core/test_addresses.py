"""The key a client's tries are counted by: an IPv6 client by its /64, an IPv4
client (also one written as IPv4-mapped IPv6) by its whole address."""

from __future__ import annotations

import pytest

from banshui.core.addresses import UNKNOWN, counted_as
from banshui.core.client_window import ClientWindow


@pytest.mark.parametrize(
    "address",
    [
        "2001:db8:1:2::1",
        "2001:db8:1:2:ffff:ffff:ffff:fffe",
        "2001:DB8:1:2:0:0:0:7",
        "2001:db8:1:2:a:b:c:d",
    ],
)
def test_every_address_of_one_ipv6_64_is_counted_as_that_64(address: str) -> None:
    assert counted_as(address) == "2001:db8:1:2::/64"


def test_ipv6_addresses_of_neighbouring_64s_are_counted_apart() -> None:
    assert counted_as("2001:db8:1:2::1") != counted_as("2001:db8:1:3::1")


@pytest.mark.parametrize("address", ["203.0.113.7", "127.0.0.1", "10.0.0.255"])
def test_an_ipv4_client_is_counted_by_its_whole_address(address: str) -> None:
    assert counted_as(address) == address
    assert counted_as("203.0.113.7") != counted_as("203.0.113.8")


def test_an_ipv4_mapped_ipv6_address_is_counted_as_its_ipv4_client() -> None:
    assert counted_as("::ffff:203.0.113.7") == "203.0.113.7"
    assert counted_as("::ffff:203.0.113.8") == "203.0.113.8"


def test_a_link_local_address_with_its_zone_is_counted_by_its_64() -> None:
    assert counted_as("fe80::1%eth0") == "fe80::/64"


@pytest.mark.parametrize("client", [UNKNOWN, "testclient", "2001:db8:1:2::/64"])
def test_what_is_no_address_is_counted_as_it_is(client: str) -> None:
    assert counted_as(client) == client


def test_a_client_windows_refusals_are_kept_under_the_counting_key() -> None:
    assert ClientWindow.key("2001:db8:1:2::1") == "2001:db8:1:2::/64"
    assert ClientWindow.key("203.0.113.7") == "203.0.113.7"
