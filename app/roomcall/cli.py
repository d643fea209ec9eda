"""The ``roomcall`` command: the desktop app by default, plus ``serve``, ``token`` and
``--self-test``.

Arguments are parsed before Qt, aiortc or aiohttp are imported, so ``--help`` and ``token``
answer at once; each subcommand imports only what it needs.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from roomcall import __version__


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="roomcall",
        description="Small-group video calls. With no command, opens the desktop app on an "
        "embedded room server.",
    )
    parser.add_argument("--version", action="version", version=f"roomcall {__version__}")
    parser.add_argument("--self-test", action="store_true",
                        help="run a headless end-to-end check (embedded server, two clients, "
                        "synthetic media) and exit 0 if it passes")
    parser.add_argument("--join", metavar="LINK",
                        help="open the app at the pre-join screen for an invite link "
                        "(roomcall://host:port/r/CODE)")
    parser.add_argument("--install-desktop-entry", action="store_true",
                        help="Linux: make roomcall:// links open this app (writes "
                        "~/.local/share/applications/roomcall.desktop)")
    parser.add_argument("--server", metavar="URL",
                        help="use this room server instead of the embedded one")
    parser.add_argument("--data-dir", help="where the embedded server keeps keys and apps")
    parser.add_argument("--lang", choices=["en", "zh_CN"], help="user interface language")
    sub = parser.add_subparsers(dest="command")

    serve = sub.add_parser("serve", help="run the standalone room server")
    serve.add_argument("--host", help="address to listen on (default 127.0.0.1)")
    serve.add_argument("--port", type=int, help="port to listen on (default 7880; 0 picks one)")
    serve.add_argument("--data-dir", dest="serve_data_dir",
                       help="folder for the SQLite store and keys")
    serve.add_argument("--config", help="TOML configuration file")

    token = sub.add_parser("token", help="print a RoomToken")
    token.add_argument("--app", required=True, dest="app_id", help="app id")
    token.add_argument("--room", required=True, help="room name")
    token.add_argument("--user", required=True, help="user id")
    token.add_argument("--admin", action="store_true", help="grant the admin permission")
    token.add_argument("--ttl", type=int, default=3600, help="seconds until it expires")
    token.add_argument("--data-dir", dest="token_data_dir",
                       help="server data folder to take the keys from")
    token.add_argument("--config", help="TOML configuration file")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command == "serve":
        return _serve(args)
    if args.command == "token":
        return _token(args)
    if args.self_test:
        return _self_test(args)
    if args.install_desktop_entry:
        from roomcall.ui.desktop_entry import install_command

        return install_command()
    return _gui(args)


def _serve(args: argparse.Namespace) -> int:
    from roomcall.server.run import serve_command

    return serve_command(args)


def _token(args: argparse.Namespace) -> int:
    from roomcall.server.run import token_command

    return token_command(args)


def _self_test(args: argparse.Namespace) -> int:
    from roomcall.selftest import run_self_test

    return run_self_test()


def _gui(args: argparse.Namespace) -> int:
    from roomcall.ui.main import run_app

    return run_app(args)


if __name__ == "__main__":
    sys.exit(main())
