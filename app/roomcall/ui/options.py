"""How the desktop app was asked to run: command-line flags and ``ROOMCALL_*`` variables."""

from __future__ import annotations

import argparse
import getpass
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from roomcall.ui.host import DEFAULT_PORT
from roomcall.ui.ice_servers import IceServer
from roomcall.ui.kick import DEFAULT_GRACE_SECONDS


def _truthy(value: str | None) -> bool:
    return (value or "").strip().lower() in ("1", "true", "yes", "on")


def default_name() -> str:
    """The login name, as a first guess at the person's display name."""
    try:
        return getpass.getuser().capitalize()
    except (KeyError, OSError):
        return ""


@dataclass
class AppOptions:
    """Everything the window needs to know before the first click."""

    server_url: str | None = None
    """``--server``: a room server to join on instead of the embedded one."""
    join_link: str | None = None
    """``--join``: an invite link to join at once."""
    data_dir: Path | None = None
    """``--data-dir``: the embedded server's data folder (None: the user's default)."""
    lang: str | None = None
    """``--lang``: ``"en"`` or ``"zh_CN"``; None follows the system locale."""
    synthetic_media: bool = False
    """``ROOMCALL_SYNTHETIC_MEDIA=1``: send a test pattern and tone instead of devices."""
    smoke: bool = False
    """``ROOMCALL_UI_SMOKE=1``: host a room, and close the window once connected."""
    name: str = field(default_factory=default_name)
    """The display name filled in at start (``ROOMCALL_NAME``)."""
    kick_grace: float = DEFAULT_GRACE_SECONDS
    """Seconds the host waits before enforcing a kick through the server."""
    embedded_port: int = DEFAULT_PORT
    """Port the embedded server tries first (``ROOMCALL_UI_PORT``; 0 picks a free one)."""
    server_config: dict[str, Any] = field(default_factory=dict)
    """Extra ``ServerConfig`` fields for the embedded server (tests shorten durations)."""
    ice_servers: list[IceServer] = field(default_factory=list)
    """The person's own STUN/TURN servers (Settings, kept in QSettings); empty: the room
    server's."""

    @classmethod
    def from_args(cls, args: argparse.Namespace,
                  env: Mapping[str, str] | None = None) -> AppOptions:
        """Options from ``roomcall``'s parsed arguments and the environment."""
        env = os.environ if env is None else env
        data_dir = getattr(args, "data_dir", None)
        options = cls(
            server_url=getattr(args, "server", None),
            join_link=getattr(args, "join", None),
            data_dir=Path(data_dir) if data_dir else None,
            lang=getattr(args, "lang", None),
            synthetic_media=_truthy(env.get("ROOMCALL_SYNTHETIC_MEDIA")),
            smoke=_truthy(env.get("ROOMCALL_UI_SMOKE")),
        )
        if env.get("ROOMCALL_NAME"):
            options.name = env["ROOMCALL_NAME"]
        if env.get("ROOMCALL_UI_PORT"):
            options.embedded_port = int(env["ROOMCALL_UI_PORT"])
        return options
