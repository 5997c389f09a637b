"""HTTP downloads that reach public internet addresses only (no SSRF through a URL
that somebody else chose, such as a provider's result URL).

Every connection checks the address it is about to connect to, after DNS
resolution and in the same step: the checked address is the one connected to, so
a name that resolves to a public address for a check and to 127.0.0.1 a moment
later (DNS rebinding) gains nothing. Loopback, private, link-local, shared
(100.64/10), reserved, multicast and unspecified addresses are refused, and so
is a name that resolves to any of them. Redirects are followed by hand, a
bounded number of times, and each hop connects (and is checked) anew. For https
the TLS handshake still names and verifies the host name (SNI and certificate):
only the TCP connection goes to the checked address. Proxies from the
environment are ignored: their address would be checked instead of the target's.

`GENERATION_RESULT_ALLOWED_PRIVATE_ADDRESSES` lists private addresses that may be
reached all the same (`10.0.0.5`, `10.0.0.0/24`, `127.0.0.1:8080`,
`[::1]:8080`): an object store on the private network, or a test's fake server.
"""

import ipaddress
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

import requests
from django.conf import settings
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.exceptions import NewConnectionError
from urllib3.util import connection as urllib3_connection

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

REDIRECT_STATUSES = (301, 302, 303, 307, 308)
MAX_REDIRECTS = 5


class AddressRefused(Exception):
    """The URL leads to an address that is not public (and not explicitly allowed)."""


class TooManyRedirects(Exception):
    """More than MAX_REDIRECTS redirects, or a redirect without a usable Location."""


@dataclass(frozen=True)
class AllowedAddress:
    network: IPNetwork
    port: int | None  # None: any port

    def matches(self, address: IPAddress, port: int) -> bool:
        return address in self.network and (self.port is None or self.port == port)


def allowed_addresses_parse(entries: list[str]) -> list[AllowedAddress]:
    """`ADDRESS[:PORT]` entries (ADDRESS an IP or a CIDR network, IPv6 in brackets when
    a port follows). Raises ValueError naming the first bad entry."""
    allowed = []
    for raw in entries:
        entry = raw.strip()
        address, port = entry, None
        if entry.startswith("["):
            address, _, rest = entry[1:].partition("]")
            if rest:
                if not rest.startswith(":"):
                    raise ValueError(f"bad address {raw!r}")
                port = rest[1:]
        elif entry.count(":") == 1:
            address, port = entry.split(":")
        try:
            network = ipaddress.ip_network(address, strict=False)
            port_number = None if port is None else int(port)
        except ValueError:
            raise ValueError(f"bad address {raw!r}: use ADDRESS, ADDRESS/PREFIX or ADDRESS:PORT") from None
        if port_number is not None and not 0 < port_number < 65536:
            raise ValueError(f"bad port in {raw!r}")
        allowed.append(AllowedAddress(network=network, port=port_number))
    return allowed


def address_is_public(address: IPAddress) -> bool:
    """A unicast address routed on the public internet."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        # ::ffff:127.0.0.1 is 127.0.0.1 to the kernel.
        address = address.ipv4_mapped
    return address.is_global and not (
        address.is_multicast
        or address.is_private
        or address.is_loopback
        or address.is_link_local
        or address.is_reserved
        or address.is_unspecified
    )


def address_allowed(address: IPAddress, port: int) -> bool:
    if address_is_public(address):
        return True
    allowed = allowed_addresses_parse(settings.GENERATION_RESULT_ALLOWED_PRIVATE_ADDRESSES)
    return any(entry.matches(address, port) for entry in allowed)


class _PublicAddressMixin:
    """urllib3's connection, connecting only to an address that passed the check."""

    host: str
    port: int
    timeout: float | None
    source_address: tuple[str, int] | None
    socket_options: list[tuple[int, int, int | bytes]] | None

    def _new_conn(self) -> socket.socket:
        host = self.host.strip("[]")
        try:
            infos = socket.getaddrinfo(host, self.port, type=socket.SOCK_STREAM)
        except socket.gaierror as exc:
            raise NewConnectionError(self, f"cannot resolve {host!r}: {exc}") from exc  # type: ignore[arg-type]
        addresses = []
        for *_, sockaddr in infos:
            address = ipaddress.ip_address(str(sockaddr[0]).split("%", 1)[0])
            if not address_allowed(address, self.port):
                raise AddressRefused(f"{host!r} resolves to {address}, which is not a public address")
            if address not in addresses:
                addresses.append(address)
        last_error: OSError | None = None
        for address in addresses:
            try:
                return urllib3_connection.create_connection(
                    (str(address), self.port), self.timeout, source_address=self.source_address,
                    socket_options=self.socket_options,
                )
            except OSError as exc:
                last_error = exc
        raise NewConnectionError(self, f"cannot connect to {host!r}: {last_error}")  # type: ignore[arg-type]


class _PublicHTTPConnection(_PublicAddressMixin, HTTPConnection):
    pass


class _PublicHTTPSConnection(_PublicAddressMixin, HTTPSConnection):
    pass


class _PublicHTTPConnectionPool(HTTPConnectionPool):
    ConnectionCls = _PublicHTTPConnection


class _PublicHTTPSConnectionPool(HTTPSConnectionPool):
    ConnectionCls = _PublicHTTPSConnection


class _PublicAddressAdapter(HTTPAdapter):
    def init_poolmanager(self, *args: object, **kwargs: object) -> None:
        super().init_poolmanager(*args, **kwargs)  # type: ignore[arg-type]
        self.poolmanager.pool_classes_by_scheme = {
            "http": _PublicHTTPConnectionPool,
            "https": _PublicHTTPSConnectionPool,
        }


@contextmanager
def public_get(
    url: str, *, timeout: tuple[float, float], headers: dict[str, str] | None = None
) -> Iterator[requests.Response]:
    """GET `url` (streamed), following at most MAX_REDIRECTS redirects, each hop to a
    public (or explicitly allowed) address only. The final response is yielded
    whatever its status. Raises AddressRefused, TooManyRedirects, ValueError (a URL
    that is not http(s)) and requests' exceptions."""
    session = requests.Session()
    session.trust_env = False
    adapter = _PublicAddressAdapter(max_retries=0)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    try:
        for _ in range(MAX_REDIRECTS + 1):
            if urlsplit(url).scheme not in ("http", "https"):
                raise ValueError(f"URL with scheme {urlsplit(url).scheme!r}")
            response = session.get(url, stream=True, timeout=timeout, headers=headers, allow_redirects=False)
            location = response.headers.get("Location")
            if response.status_code not in REDIRECT_STATUSES:
                try:
                    yield response
                finally:
                    response.close()
                return
            response.close()
            if not location:
                raise TooManyRedirects(f"HTTP {response.status_code} without a Location")
            url = urljoin(url, location)
        raise TooManyRedirects(f"more than {MAX_REDIRECTS} redirects")
    finally:
        session.close()
