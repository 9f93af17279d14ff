"""Which addresses a check may connect to.

By default the monitor refuses private, loopback, link-local and cloud-metadata
addresses: an article URL or a redirect must not make it probe the network it runs
in (`http://169.254.169.254/`, `localhost:2375`, an intranet page). Checked on the
literal host of every hop and, for names, on the addresses they resolve to at connect
time. `fetch.allow_private_addresses = true` lifts the rule; mirror targets, which
the user chose, are always allowed.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from typing import Any

from monitor.errors import FetchError

_METADATA_NAMES = frozenset({"metadata.google.internal", "metadata", "instance-data"})


def is_private_address(address: str) -> bool:
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return (
        ip.is_private
        or ip.is_loopback
        or ip.is_link_local
        or ip.is_reserved
        or ip.is_multicast
        or ip.is_unspecified
    )


def is_private_host(host: str) -> bool:
    """A host that is private by its name or literal address alone."""
    host = host.strip("[]").lower().rstrip(".")
    if host == "localhost" or host.endswith(".localhost") or host in _METADATA_NAMES:
        return True
    return is_private_address(host)


Endpoint = tuple[str, int]  # (host, port): what a connection goes to


def endpoint(host: str, port: int) -> Endpoint:
    return host.strip("[]").lower().rstrip("."), port


@dataclass(frozen=True)
class AddressPolicy:
    allow_private: bool = False
    # The exact host and port of each mirror target: trusted, and nothing else on that
    # host (a mirror on 127.0.0.1:8000 must not open 127.0.0.1:2375 to a redirect).
    trusted: frozenset[Endpoint] = field(default_factory=frozenset)

    def applies_to(self, host: str, port: int) -> bool:
        return not self.allow_private and endpoint(host, port) not in self.trusted

    def check_host(self, host: str, port: int) -> None:
        """Refuse a literal private host (names are checked when resolved)."""
        if self.applies_to(host, port) and is_private_host(host):
            raise FetchError(
                f"refused: {host} is a private address (see fetch.allow_private_addresses)"
            )

    def check_addresses(self, host: str, port: int, addresses: list[str]) -> None:
        if self.applies_to(host, port) and any(is_private_address(a) for a in addresses):
            raise FetchError(
                f"refused: {host} resolves to a private address (see fetch.allow_private_addresses)"
            )


def resolved_addresses(infos: list[Any]) -> list[str]:
    return [str(info[4][0]) for info in infos]
