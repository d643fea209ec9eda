"""What the app remembers between launches (QSettings, organisation and app "roomcall").

The settings live in an INI file in the user's configuration folder (``~/.config/roomcall/
roomcall.ini`` on Linux). Tests point ``QSettings.setPath`` at a folder of their own.
"""

from __future__ import annotations

import hashlib

from PySide6.QtCore import QByteArray, QSettings

from roomcall.ui import ice_servers

ORGANISATION = "roomcall"
APPLICATION = "roomcall"


def _link_key(link: str) -> str:
    # A link is a secret and holds characters QSettings keys treat specially ("/"): store a
    # digest of it instead.
    return "invites/" + hashlib.sha256(link.strip().encode()).hexdigest()[:32]


class AppSettings:
    """Typed access to the remembered values; every setter writes through at once."""

    def __init__(self, settings: QSettings | None = None) -> None:
        self._s = settings or QSettings(QSettings.Format.IniFormat, QSettings.Scope.UserScope,
                                        ORGANISATION, APPLICATION)

    def _text(self, key: str) -> str:
        value = self._s.value(key, "")
        return value if isinstance(value, str) else ""

    def _set(self, key: str, value: object) -> None:
        self._s.setValue(key, value)
        self._s.sync()

    @property
    def name(self) -> str:
        """The display name typed last ("" if never)."""
        return self._text("name")

    @name.setter
    def name(self, value: str) -> None:
        self._set("name", value)

    @property
    def language(self) -> str:
        """The interface language chosen last ("" to follow the system)."""
        return self._text("language")

    @language.setter
    def language(self, value: str) -> None:
        self._set("language", value)

    def device(self, kind: str) -> str:
        """The device id chosen last for ``kind`` (camera, microphone, speaker), or ""."""
        return self._text(f"devices/{kind}")

    def set_device(self, kind: str, device_id: str) -> None:
        """Remember ``device_id`` for ``kind``."""
        self._set(f"devices/{kind}", device_id)

    @property
    def ice_servers(self) -> list[ice_servers.IceServer]:
        """The STUN/TURN servers of the person's own, from the Settings dialog."""
        return ice_servers.load(self._s)

    @ice_servers.setter
    def ice_servers(self, servers: list[ice_servers.IceServer]) -> None:
        ice_servers.save(self._s, servers)
        self._s.sync()

    @property
    def geometry(self) -> QByteArray | None:
        """The main window's saved geometry, if any."""
        value = self._s.value("window/geometry")
        return value if isinstance(value, QByteArray) and not value.isEmpty() else None

    @geometry.setter
    def geometry(self, value: QByteArray) -> None:
        self._set("window/geometry", value)

    def invite_token(self, link: str) -> str:
        """The token this app redeemed ``link`` for last ("" if never): presented again, it
        brings the person back as the same member instead of a new one."""
        return self._text(_link_key(link))

    def set_invite_token(self, link: str, token: str) -> None:
        """Remember the token ``link`` was redeemed for."""
        self._set(_link_key(link), token)

    @property
    def file_name(self) -> str:
        """Where the settings are stored."""
        return self._s.fileName()
