"""Client addresses as the edge reports them: normalised here, so the engine and the gate
count and ban one form. Pure.

A socket's peer address comes from the OS already canonical (inet_ntop), with two forms to
fold: an IPv4 client on a dual-stack (IPv6) socket shows as IPv4-mapped `::ffff:a.b.c.d`,
and a link-local IPv6 peer carries its `%scope`. (The OS also writes the deprecated
IPv4-compatible `::a.b.c.d` (::/96) dotted, where the general form writes hex; no client
connects from one.) A trusted proxy's X-Forwarded-For is text another program wrote, so it
is parsed and written canonically (`forwarded_address`). world.moderation's
normalise_address is the general form, for what admins type."""

from __future__ import annotations

import ipaddress

_MAPPED = "::ffff:"


def peer_address(host: str) -> str:
    """A socket peer's host as reported: `::ffff:1.2.3.4` as `1.2.3.4`, no `%scope`."""
    host = host.partition("%")[0]
    if host[:7].lower() == _MAPPED and "." in host and ":" not in host[7:]:
        return host[7:]
    return host


def forwarded_address(text: str) -> str:
    """An address a proxy wrote, canonical (as `peer_address` gives the OS's); text that is
    no address is kept as it is."""
    try:
        ip = ipaddress.ip_address(text.partition("%")[0])
    except ValueError:
        return text
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        return str(ip.ipv4_mapped)
    return str(ip)
