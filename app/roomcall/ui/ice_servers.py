"""The person's own STUN/TURN servers: what they are, how they are kept, what the SDK gets.

With none set, ``RTCClient`` uses the STUN/TURN servers the room server hands out at join.
Kept in the app's ``QSettings`` (one array ``network/ice_servers``).

A TURN entry holds either a password (with its username), or, with the username left empty,
the ``static-auth-secret`` of a coturn run with ``use-auth-secret``: the app then mints
short-lived credentials from it (the TURN REST API scheme ``roomcall serve`` uses), for its own
calls and, when it hosts, for its guests (``roomcall.ui.host``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from PySide6.QtCore import QCoreApplication, QSettings

from roomcall.protocol.ice import turn_credential

if TYPE_CHECKING:
    from aiortc import RTCIceServer

SCHEMES = ("stun:", "stuns:", "turn:", "turns:")
_KEY = "network/ice_servers"
CREDENTIAL_TTL = 86400
"""Seconds a TURN credential minted from a secret stays valid (``roomcall serve``'s default)."""


@dataclass(frozen=True)
class IceServer:
    """One STUN or TURN server the person added."""

    url: str
    """``stun:host:port`` or ``turn:host:port?transport=udp`` (``stuns:``/``turns:`` too)."""
    username: str = ""
    """TURN only: the user name the TURN server expects; empty for a shared secret."""
    credential: str = ""
    """TURN only: the password (coturn ``lt-cred-mech``) for ``username``, or, with no
    username, coturn's ``static-auth-secret`` (``use-auth-secret``)."""

    @property
    def is_turn(self) -> bool:
        """True for a relay (``turn:`` / ``turns:``) server."""
        return self.url.lower().startswith(("turn:", "turns:"))

    @property
    def uses_secret(self) -> bool:
        """True for a TURN server whose credential is coturn's shared secret (no username):
        credentials are minted from it per person."""
        return self.is_turn and not self.username and bool(self.credential)

    def problem(self) -> str | None:
        """What is wrong with this entry, in words for the person; None if it can be used."""
        # Literal QCoreApplication.translate calls: pyside6-lupdate only finds those.
        tr = QCoreApplication
        url = self.url.strip()
        if not url.lower().startswith(SCHEMES) or len(url.split(":", 1)[1]) == 0:
            return tr.translate("IceServer", "\"{url}\" is not a STUN or TURN address: it "
                                "starts with stun:, stuns:, turn: or turns:, then the "
                                "host.").format(url=url)
        if self.is_turn and not self.credential:
            return tr.translate("IceServer", "The TURN server {url} needs a credential: its "
                                "password, with the username; or, with the username left "
                                "empty, the static-auth-secret of your coturn.").format(url=url)
        return None

    def to_rtc(self, user_id: str, now: float) -> RTCIceServer:
        """The aiortc value ``RTCClient(ice_servers=...)`` takes, for ``user_id`` at ``now``
        (Unix time): a credential minted from a secret is valid for CREDENTIAL_TTL."""
        from aiortc import RTCIceServer

        if self.uses_secret:
            username, password = turn_credential(self.credential, user_id,
                                                 int(now) + CREDENTIAL_TTL)
            return RTCIceServer(urls=self.url.strip(), username=username, credential=password)
        if self.is_turn:
            return RTCIceServer(urls=self.url.strip(), username=self.username,
                                credential=self.credential)
        return RTCIceServer(urls=self.url.strip())


def load(settings: QSettings) -> list[IceServer]:
    """The servers saved in ``settings`` (entries that cannot be used are skipped)."""
    servers: list[IceServer] = []
    count = settings.beginReadArray(_KEY)
    try:
        for index in range(count):
            settings.setArrayIndex(index)
            server = IceServer(str(settings.value("url", "") or ""),
                               str(settings.value("username", "") or ""),
                               str(settings.value("credential", "") or ""))
            if server.problem() is None:
                servers.append(server)
    finally:
        settings.endArray()
    return servers


def save(settings: QSettings, servers: Sequence[IceServer]) -> None:
    """Replace the saved servers with ``servers``."""
    settings.remove(_KEY)
    settings.beginWriteArray(_KEY, len(servers))
    try:
        for index, server in enumerate(servers):
            settings.setArrayIndex(index)
            settings.setValue("url", server.url.strip())
            settings.setValue("username", server.username)
            settings.setValue("credential", server.credential)
    finally:
        settings.endArray()
    settings.sync()
