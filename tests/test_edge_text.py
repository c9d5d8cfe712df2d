"""What the edge writes and reports by itself: its notices (mud/edge/notices.py) and its
clients' addresses (mud/edge/addresses.py)."""

from __future__ import annotations

import ipaddress

from hypothesis import given
from hypothesis import strategies as st

from mud.edge import gate, gateway
from mud.edge.addresses import forwarded_address, peer_address
from mud.edge.notices import plain
from world.moderation import normalise_address

NOTICES = [
    gateway.FLICKER,
    gateway.MAYBE_NOT_DONE,
    gateway.NOT_KEPT,
    gateway.THROTTLED,
    gateway.STOPPING,
    gateway.EVICTED,
    gate.FULL,
    gate.SERVER_FULL,
]


def test_notices_are_ascii_lines_of_at_most_80_columns() -> None:
    for text in NOTICES:
        out = plain(text)
        assert out.endswith(b"\r\n") and out.isascii()
        assert all(len(line) <= 80 for line in out.split(b"\r\n"))


def test_a_long_notice_wraps_at_spaces() -> None:
    text = "The login screen is busy: at most 3 connections from one address may wait " + (
        "there; log in on one of yours first."
    )
    assert plain(text) == (
        b"The login screen is busy: at most 3 connections from one address may wait there;\r\n"
        b"log in on one of yours first.\r\n"
    )
    assert plain("x" * 90) == b"x" * 90 + b"\r\n"  # a word wider than the screen stays whole
    assert plain("caf\u00e9") == b"caf?\r\n"


def test_socket_addresses_are_reported_as_the_moderation_rules_compare_them() -> None:
    assert peer_address("::ffff:203.0.113.9") == "203.0.113.9"
    assert peer_address("fe80::1%eth0") == "fe80::1"
    assert peer_address("::ffff:0:102:304") == "::ffff:0:102:304"  # (not IPv4-mapped)
    assert peer_address("?") == "?"


# (IPv4-mapped IPv6 addresses come from the IPv4 ones, in the OS's dotted form; the
# deprecated IPv4-compatible ::/96 ones the OS writes dotted too, and no client has one)
os_ips = st.ip_addresses().filter(
    lambda ip: ip.version == 4 or (ip.ipv4_mapped is None and ip not in IPV4_COMPATIBLE)
)
IPV4_COMPATIBLE = ipaddress.ip_network("::/96")


@given(os_ips)
def test_peer_address_agrees_with_the_general_normaliser_on_what_the_os_gives(ip) -> None:
    forms = [str(ip)]
    if ip.version == 4:
        forms.append(f"::ffff:{ip}")  # an IPv4 client on a dual-stack socket
    elif ip.is_link_local:
        forms.append(f"{ip}%eth0")
    for host in forms:
        assert peer_address(host) == normalise_address(host)


def test_a_proxys_forwarded_address_is_made_canonical() -> None:
    assert forwarded_address("2001:DB8:0:0::1") == "2001:db8::1"
    assert forwarded_address("::ffff:198.51.100.7") == "198.51.100.7"
    assert forwarded_address("not an address") == "not an address"
    assert forwarded_address("203.0.113.9") == str(ipaddress.ip_address("203.0.113.9"))
