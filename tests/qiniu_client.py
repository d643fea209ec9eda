"""Qiniu's official management client (``qiniu`` on PyPI) pointed at a running room server."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from qiniu import QiniuMacAuth
from qiniu.services.pili.rtc_server_manager import RtcServer

from roomcall.server import RoomServer


def rtc_server(server: RoomServer, *, secret: str | None = None, dated: bool = True
               ) -> RtcServer:
    """Qiniu's ``RtcServer`` for ``server``, signing with the keys in use (or ``secret``);
    ``dated=False`` signs without ``X-Qiniu-Date``, as Qiniu's Go SDK does."""
    access_key, secret_key = server.keys
    auth = QiniuMacAuth(access_key, secret or secret_key,
                        disable_qiniu_timestamp_signature=not dated)
    rtc = RtcServer(auth)
    rtc.host = server.http_url
    return rtc


async def call(fn: Callable[..., tuple[Any, Any]], *args: Any) -> tuple[Any, Any]:
    """``(ret, info)`` of one of the SDK's blocking calls, run off the event loop."""
    return await asyncio.to_thread(fn, *args)
