"""Qiniu MAC: the ``Authorization: Qiniu AK:sig`` signature on management API requests.

The signed text is::

    <METHOD> <path>[?<raw query>]
    Host: <host>
    [Content-Type: <content type>]
    [<X-Qiniu-Name>: <value>, one line per X-Qiniu-* header, sorted by canonical name]
    <empty line>
    [<body>, only with a Content-Type other than application/octet-stream]

and the signature is the URL-safe base64 of HMAC-SHA1 over it, keyed with the secret key.
Qiniu's Python SDK also sends and signs ``X-Qiniu-Date: YYYYMMDDTHHMMSSZ`` (UTC); a request
carrying a date more than :data:`MAX_DATE_SKEW` seconds off the server's clock is refused,
which bounds how long a captured request can be replayed. This module checks a date when one
is sent; whether a request may come without one, and whether a request may be seen twice, is the
server's policy (:mod:`roomcall.server.management`).

The body is signed only with a Content-Type other than ``application/octet-stream``
(:func:`body_signed`): a server must not act on the body of any other request.

The verifier must be given the request exactly as received: the raw (still percent-encoded)
path and query, the Host header, and the full Content-Type header (parameters included).
"""

from __future__ import annotations

import base64
import calendar
import hashlib
import hmac
import re
import time
from collections.abc import Callable, Mapping

MAX_DATE_SKEW = 15 * 60
"""Seconds an ``X-Qiniu-Date`` may differ from the server's clock."""

DATE_HEADER = "X-Qiniu-Date"
DATE_FORMAT = "%Y%m%dT%H%M%SZ"
"""strftime format of ``X-Qiniu-Date`` (UTC)."""

_DATE_RE = re.compile(r"[0-9]{8}T[0-9]{6}Z")
_SCHEME = "Qiniu"
_QINIU_PREFIX = "X-Qiniu-"
_OCTET_STREAM = "application/octet-stream"
# RFC 7230 tchar, as Go's textproto.CanonicalMIMEHeaderKey checks it
_TOKEN_CHARS = frozenset(
    "!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
)


class MacError(Exception):
    """A management request whose signature does not authenticate it (answer 401)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def canonical_header_key(name: str) -> str:
    """``name`` as Go's ``http.CanonicalHeaderKey`` writes it (``x-qiniu-date`` →
    ``X-Qiniu-Date``); a name with characters outside the HTTP token set is left as it is."""
    if not name or any(ch not in _TOKEN_CHARS for ch in name):
        return name
    out = []
    upper = True
    for ch in name:
        out.append(ch.upper() if upper else ch.lower())
        upper = ch == "-"
    return "".join(out)


def signing_data(
    method: str,
    path: str,
    raw_query: str,
    host: str,
    content_type: str | None,
    headers: Mapping[str, str],
    body: bytes,
) -> bytes:
    """The bytes a Qiniu MAC signs for this request (see the module docstring)."""
    lines = [f"{method} {path}" + (f"?{raw_query}" if raw_query else ""), f"Host: {host}"]
    if content_type:
        lines.append(f"Content-Type: {content_type}")
    qiniu: dict[str, str] = {}
    for name, value in headers.items():
        key = canonical_header_key(name)
        if key.startswith(_QINIU_PREFIX) and len(key) > len(_QINIU_PREFIX):
            qiniu.setdefault(key, value)  # a repeated header signs its first value, as Go's Get
    lines.extend(f"{key}: {qiniu[key]}" for key in sorted(qiniu))
    # surrogateescape gives back the raw bytes of headers a server decoded that way (aiohttp)
    data = ("\n".join(lines) + "\n\n").encode("utf-8", "surrogateescape")
    if body_signed(content_type):
        data += body
    return data


def body_signed(content_type: str | None) -> bool:
    """Whether the signature of a request with this Content-Type header covers its body
    (Qiniu's rule: a Content-Type is sent and it is not ``application/octet-stream``)."""
    return bool(content_type) and content_type != _OCTET_STREAM


def sign_request(
    access_key: str,
    secret_key: str,
    *,
    method: str,
    path: str,
    raw_query: str,
    host: str,
    content_type: str | None,
    headers: Mapping[str, str],
    body: bytes,
) -> str:
    """The ``Authorization`` header value (``"Qiniu AK:sig"``) for this request.

    To have the date checked, put an ``X-Qiniu-Date`` (see :func:`format_date`) in ``headers``
    and send it with the request.
    """
    data = signing_data(method, path, raw_query, host, content_type, headers, body)
    return f"{_SCHEME} {access_key}:{_signature(secret_key, data)}"


def verify_request(
    authorization: str | None,
    *,
    secret_for: Callable[[str], str | None],
    method: str,
    path: str,
    raw_query: str,
    host: str,
    content_type: str | None,
    headers: Mapping[str, str],
    body: bytes,
    now: float,
    max_skew: float = MAX_DATE_SKEW,
) -> str:
    """The access key that signed this request, or :class:`MacError`.

    Refuses a missing or garbled ``Authorization``, an unknown access key (``secret_for``
    returns None), a signature that does not match, and an ``X-Qiniu-Date`` that is malformed
    or more than ``max_skew`` seconds away from ``now`` (Unix seconds).
    """
    if not authorization:
        raise MacError("missing Authorization header")
    scheme, _, credentials = authorization.strip().partition(" ")
    if scheme != _SCHEME or not credentials:
        raise MacError("Authorization must be 'Qiniu <AccessKey>:<signature>'")
    access_key, sep, signature = credentials.strip().rpartition(":")
    if not sep or not access_key or not signature:
        raise MacError("Authorization must be 'Qiniu <AccessKey>:<signature>'")
    secret = secret_for(access_key)
    if secret is None:
        raise MacError("unknown access key")
    try:
        data = signing_data(method, path, raw_query, host, content_type, headers, body)
    except UnicodeEncodeError:
        raise MacError("request line or headers are not encodable text") from None
    expected = _signature(secret, data)
    if not signature.isascii() or not hmac.compare_digest(expected, signature):
        raise MacError("signature does not match the request")
    signed_at = signed_date(headers)
    if signed_at is not None and abs(signed_at - now) > max_skew:
        raise MacError(f"{DATE_HEADER} {format_date(signed_at)} is more than {max_skew:g} s off "
                       "the server time")
    return access_key


def signed_date(headers: Mapping[str, str]) -> int | None:
    """The Unix time of the request's ``X-Qiniu-Date``, None without one, or :class:`MacError`
    if it is malformed."""
    date = _header(headers, DATE_HEADER)
    return None if date is None else parse_date(date)


def format_date(when: float) -> str:
    """``when`` (Unix seconds) as an ``X-Qiniu-Date`` value."""
    return time.strftime(DATE_FORMAT, time.gmtime(when))


def parse_date(value: str) -> int:
    """The Unix time of an ``X-Qiniu-Date`` value, or :class:`MacError`."""
    if not _DATE_RE.fullmatch(value):
        raise MacError(f"{DATE_HEADER} must look like 20240131T235959Z")
    try:
        return calendar.timegm(time.strptime(value, DATE_FORMAT))
    except ValueError:
        raise MacError(f"{DATE_HEADER} must look like 20240131T235959Z") from None


def _header(headers: Mapping[str, str], name: str) -> str | None:
    for key, value in headers.items():
        if canonical_header_key(key) == name:
            return value
    return None


def _signature(secret_key: str, data: bytes) -> str:
    digest = hmac.new(secret_key.encode("utf-8"), data, hashlib.sha1).digest()
    return base64.urlsafe_b64encode(digest).decode("ascii")
