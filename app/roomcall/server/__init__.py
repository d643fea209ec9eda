"""The room server: a sans-I/O rooms core, the aiohttp signalling shell, the v3 management API
and the app store.

``RoomServer`` is imported lazily so that ``roomcall token`` does not load aiohttp.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from roomcall.server.config import ServerConfig, load_config

if TYPE_CHECKING:
    from roomcall.server.server import RoomServer

__all__ = ["RoomServer", "ServerConfig", "load_config"]


def __getattr__(name: str) -> Any:
    if name == "RoomServer":
        from roomcall.server.server import RoomServer

        return RoomServer
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
