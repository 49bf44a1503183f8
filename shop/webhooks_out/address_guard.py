"""Where a webhook delivery may go: http(s) only, to a host whose every address is public,
unless WEBHOOK_ALLOW_PRIVATE allows loopback, private and link-local ones.

The host is resolved once and the connection goes to the address that was checked, so
a name that resolves to a public address for the check and a private one for the
connection (DNS rebinding) reaches nothing. No redirect is followed: http.client never
follows one, and a 3xx counts as a failed attempt.
"""

import dataclasses
import http.client
import ipaddress
import socket
import ssl
from urllib.parse import urlsplit

from shop import config
from shop.errors import ValidationError

MAX_URL_LENGTH = 2000


class AddressRefused(ValidationError):
    """A URL the shop will not deliver to; the message says why."""


@dataclasses.dataclass(frozen=True)
class Target:
    scheme: str
    host: str
    port: int
    path: str
    address: str


def refused_reason(address):
    """Why `address` (an ip_address) is no place for a delivery, or None when it is public.

    An IPv6 address that carries an IPv4 one (mapped, 6to4, Teredo) is judged by the
    IPv4 address it reaches. Anything not globally routable is refused, not only the
    named kinds: shared address space (100.64.0.0/10, where some clouds keep their
    metadata service), site-local IPv6 and the like lead inside someone's network.
    """
    if isinstance(address, ipaddress.IPv6Address):
        inner = address.ipv4_mapped or address.sixtofour or (address.teredo[1] if address.teredo else None)
        if inner is not None:
            address = inner
    for reason, test in (("loopback", address.is_loopback), ("link-local", address.is_link_local),
                         ("multicast", address.is_multicast), ("unspecified", address.is_unspecified),
                         ("private", address.is_private), ("reserved", address.is_reserved),
                         ("site-local", getattr(address, "is_site_local", False)),
                         ("not public", not address.is_global)):
        if test:
            return reason
    return None


def check_url(url, allow_private=None):
    """The Target of `url` after every check, or AddressRefused."""
    allow_private = config.WEBHOOK_ALLOW_PRIVATE if allow_private is None else allow_private
    if not isinstance(url, str) or not url or len(url) > MAX_URL_LENGTH or not url.isascii():
        raise AddressRefused("Enter an http or https URL of at most 2000 ASCII characters.")
    try:
        parts = urlsplit(url.strip())
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        raise AddressRefused("The URL cannot be read.") from None
    if parts.scheme not in ("http", "https"):
        raise AddressRefused("Only http and https URLs receive webhooks.")
    if not parts.hostname or parts.username is not None or parts.password is not None:
        raise AddressRefused("The URL needs a host, and no user name or password in it.")
    try:
        found = socket.getaddrinfo(parts.hostname, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError):
        raise AddressRefused(f"The host {parts.hostname} cannot be resolved.") from None
    addresses = [ipaddress.ip_address(info[4][0].split("%", 1)[0]) for info in found]
    if not allow_private:
        # Every address must be public: a name with one public and one private record
        # would otherwise reach the private one on some connections.
        for address in addresses:
            reason = refused_reason(address)
            if reason:
                raise AddressRefused(f"{parts.hostname} resolves to a {reason} address ({address}); "
                                     f"webhooks go only to public addresses.")
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return Target(parts.scheme, parts.hostname, port, path, str(addresses[0]))


class _PinnedHTTPConnection(http.client.HTTPConnection):
    """Connects to the checked address, whatever the host's name resolves to by now."""

    def __init__(self, target, timeout):
        super().__init__(target.host, target.port, timeout=timeout)
        self.address = target.address

    def connect(self):
        self.sock = socket.create_connection((self.address, self.port), self.timeout)


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    def __init__(self, target, timeout):
        self.tls = ssl.create_default_context()
        super().__init__(target.host, target.port, timeout=timeout, context=self.tls)
        self.address = target.address

    def connect(self):
        sock = socket.create_connection((self.address, self.port), self.timeout)
        # The certificate is checked against the host's name, as for any https request.
        self.sock = self.tls.wrap_socket(sock, server_hostname=self.host)


def post(target, body, headers, timeout=None):
    """POST `body` to `target`; returns (status code, the first bytes of the answer).
    Raises OSError or http.client.HTTPException when no answer came."""
    connection_class = _PinnedHTTPSConnection if target.scheme == "https" else _PinnedHTTPConnection
    connection = connection_class(target, config.WEBHOOK_TIMEOUT_SECONDS if timeout is None else timeout)
    try:
        connection.request("POST", target.path, body=body, headers=headers)
        answer = connection.getresponse()
        return answer.status, answer.read(512)
    finally:
        connection.close()
