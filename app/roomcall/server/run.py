"""``roomcall serve`` and ``roomcall token``: the server's command-line front.

Neither imports aiohttp until it needs it, so ``roomcall token`` answers at once.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import signal
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

from roomcall.protocol.token import ROOM_NAME_RE, USER_ID_RE, RoomAccess, sign_room_token
from roomcall.server.config import ConfigError, ServerConfig, load_config
from roomcall.server.store import DB_FILENAME, AppStore, StoreError

if TYPE_CHECKING:
    from roomcall.server.server import RoomServer

EXIT_USAGE = 2
EXIT_FAILURE = 1

MAX_TOKEN_TTL = 10 * 365 * 24 * 3600
"""Longest ``--ttl`` (ten years): a longer one is almost surely a typo, and an ``expireAt``
far in the future is one that other Qiniu implementations may not read."""


def serve_command(args: argparse.Namespace) -> int:
    """Run the standalone room server until SIGINT / SIGTERM / SIGHUP, then stop it gracefully
    (every room is closed first: members see ROOM_CLOSED at once); the process exit status."""
    try:
        config = load_config(_path(args.config), os.environ, host=args.host, port=args.port,
                             data_dir=_path(args.serve_data_dir))
    except ConfigError as exc:
        print(f"roomcall serve: {exc}", file=sys.stderr)
        return EXIT_USAGE
    try:
        return asyncio.run(_serve(config))
    except KeyboardInterrupt:  # platforms without loop signal handlers (Windows)
        return 0


async def _serve(config: ServerConfig) -> int:
    from roomcall.server.server import RoomServer

    server = RoomServer(config)
    try:
        await server.start()
    except ConfigError as exc:
        print(f"roomcall serve: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except (StoreError, OSError) as exc:
        print(f"roomcall serve: {exc}", file=sys.stderr)
        return EXIT_FAILURE
    try:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        # SIGTERM (logout, shutdown, kill) and SIGHUP (the terminal closed) stop like Ctrl+C.
        for name in ("SIGINT", "SIGTERM", "SIGHUP"):
            sig = getattr(signal, name, None)
            if sig is None:  # Windows has no SIGHUP
                continue
            with contextlib.suppress(NotImplementedError, RuntimeError):
                loop.add_signal_handler(sig, stop.set)
        _print_banner(server, config)  # after the handlers: a stop right after it is clean
        await stop.wait()
        with contextlib.suppress(OSError):  # stdout may be a closed pipe by now
            print("roomcall serve: stopping", flush=True)
    finally:
        await server.stop()
    return 0


def _print_banner(server: RoomServer, config: ServerConfig) -> None:
    app = server.default_app
    print(f"Data folder:     {config.data_dir}")
    if server.keys_created:
        access_key, secret_key = server.keys
        print("New keys were created (shown only this once; they are kept in the data folder):")
        print(f"  Access key:    {access_key}")
        print(f"  Secret key:    {secret_key}")
    if app is not None:
        print(f"Default app id:  {app.app_id}")
    print(f"Signalling:      {server.url}")
    print(f"Management API:  {server.http_url}")
    if server.sfu is not None:
        up = sum(link.up for link in server.sfu.links)
        print(f"SFU:             {len(server.sfu.links)} Janus instance(s), {up} reachable")
    print("Press Ctrl+C to stop.", flush=True)


def token_command(args: argparse.Namespace) -> int:
    """Print a RoomToken signed with the configured keys (or the data folder's)."""
    if not ROOM_NAME_RE.fullmatch(args.room):
        print("roomcall token: room names are 3-64 of a-z A-Z 0-9 _ -", file=sys.stderr)
        return EXIT_USAGE
    if not USER_ID_RE.fullmatch(args.user):
        print("roomcall token: user ids are 3-50 of a-z A-Z 0-9 _ -", file=sys.stderr)
        return EXIT_USAGE
    if not 0 < args.ttl <= MAX_TOKEN_TTL:
        print(f"roomcall token: --ttl must be 1-{MAX_TOKEN_TTL} seconds (up to ten years), "
              f"not {args.ttl}", file=sys.stderr)
        return EXIT_USAGE
    try:
        config = load_config(_path(args.config), os.environ,
                             data_dir=_path(args.token_data_dir))
        access_key, secret_key = _keys(config, args.app_id)
    except (ConfigError, StoreError) as exc:
        print(f"roomcall token: {exc}", file=sys.stderr)
        return EXIT_FAILURE
    access = RoomAccess(app_id=args.app_id, room_name=args.room, user_id=args.user,
                        expire_at=int(time.time()) + args.ttl,
                        permission="admin" if args.admin else "user")
    print(sign_room_token(access_key, secret_key, access))
    return 0


def _keys(config: ServerConfig, app_id: str) -> tuple[str, str]:
    """The configured keys, completed from the data folder's store when one is missing."""
    if config.access_key and config.secret_key:
        return config.access_key, config.secret_key
    if config.access_key or config.secret_key:
        raise ConfigError("set both ROOMCALL_ACCESS_KEY and ROOMCALL_SECRET_KEY, or neither")
    if not (config.data_dir / DB_FILENAME).exists():
        raise StoreError(f"no keys in {config.data_dir}: run `roomcall serve` once, or set "
                         "ROOMCALL_ACCESS_KEY and ROOMCALL_SECRET_KEY")
    # read-only and without the folder lock: a server may be running on this folder
    store = AppStore.open(config.data_dir, read_only=True)
    try:
        stored_ak, stored_sk = store.keys()
        if store.get_app(app_id) is None:
            print(f"roomcall token: warning: no app {app_id!r} in {config.data_dir}",
                  file=sys.stderr)
    finally:
        store.close()
    return stored_ak, stored_sk


def _path(value: str | None) -> Path | None:
    return None if value is None else Path(value).expanduser()
