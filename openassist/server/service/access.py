"""Source-address rules: which networks an address belongs to."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable


def address_in(address: str, networks: Iterable[str]) -> bool:
    """True when ``address`` lies in one of ``networks`` (addresses or CIDR blocks; malformed
    entries match nothing)."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    for item in networks:
        try:
            if ip in ipaddress.ip_network(item.strip(), strict=False):
                return True
        except ValueError:
            continue
    return False
