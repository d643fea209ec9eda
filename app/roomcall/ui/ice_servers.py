"""The person's own STUN/TURN servers: what they are, how they are kept, what the SDK gets.

With none set, ``RTCClient`` uses the STUN/TURN servers the room server hands out at join.
Kept in the app's ``QSettings`` (one array ``network/ice_servers``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from PySide6.QtCore import QCoreApplication, QSettings

if TYPE_CHECKING:
    from aiortc import RTCIceServer

SCHEMES = ("stun:", "stuns:", "turn:", "turns:")
_KEY = "network/ice_servers"


@dataclass(frozen=True)
class IceServer:
    """One STUN or TURN server the person added."""

    url: str
    """``stun:host:port`` or ``turn:host:port?transport=udp`` (``stuns:``/``turns:`` too)."""
    username: str = ""
    """TURN only: the user name the TURN server expects."""
    credential: str = ""
    """TURN only: the password (coturn ``lt-cred-mech``) for ``username``."""

    @property
    def is_turn(self) -> bool:
        """True for a relay (``turn:`` / ``turns:``) server."""
        return self.url.lower().startswith(("turn:", "turns:"))

    def problem(self) -> str | None:
        """What is wrong with this entry, in words for the person; None if it can be used."""
        # Literal QCoreApplication.translate calls: pyside6-lupdate only finds those.
        tr = QCoreApplication
        url = self.url.strip()
        if not url.lower().startswith(SCHEMES) or len(url.split(":", 1)[1]) == 0:
            return tr.translate("IceServer", "\"{url}\" is not a STUN or TURN address: it "
                                "starts with stun:, stuns:, turn: or turns:, then the "
                                "host.").format(url=url)
        if self.is_turn and not (self.username and self.credential):
            return tr.translate("IceServer", "The TURN server {url} needs a username and "
                                "a credential.").format(url=url)
        return None

    def to_rtc(self) -> RTCIceServer:
        """The aiortc value ``RTCClient(ice_servers=...)`` takes."""
        from aiortc import RTCIceServer

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
