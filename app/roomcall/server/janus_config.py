"""The Janus configuration roomcall needs, written as a folder of ``.jcfg`` files.

Janus (Debian's ``janus`` 1.1.2) is started with ``janus -F <folder> -C <folder>/janus.jcfg``
on a folder holding only what :func:`janus_configs` writes: the WebSocket API on one address,
the Admin API (WebSocket) on one address, no HTTP, API and admin secrets and signed-token auth
set, VideoRoom rooms only through the
API with an admin key and string ids, ICE gathered on one interface. Debian's defaults (admin
secret ``janusoverlord``, HTTP on every interface, 128 kbit/s demo rooms) are never used.
``docs/deploy.md`` shows these files; the network tests run Janus with them::

    python -m roomcall.server.janus_config --out /etc/janus-roomcall \\
        --address 203.0.113.20 --interface eth0

writes the files with freshly generated secrets and prints the ``[sfu]`` lines for
``roomcall serve``.
"""

from __future__ import annotations

import argparse
import json
import secrets
from dataclasses import dataclass
from pathlib import Path

LIBRARY = "/usr/lib/x86_64-linux-gnu/janus"
"""Where Debian installs Janus's plugins, transports, event handlers and loggers."""
WS_PORT = 8188
"""Janus's usual WebSocket API port."""
ADMIN_WS_PORT = 7188
"""Janus's usual WebSocket Admin API port."""
RTP_PORTS = "20000-40000"
"""Janus's usual media port range (UDP)."""

_UNUSED_TRANSPORTS = ("libjanus_http.so", "libjanus_pfunix.so", "libjanus_mqtt.so",
                      "libjanus_nanomsg.so", "libjanus_rabbitmq.so")
_UNUSED_PLUGINS = ("libjanus_audiobridge.so", "libjanus_duktape.so", "libjanus_echotest.so",
                   "libjanus_lua.so", "libjanus_nosip.so", "libjanus_recordplay.so",
                   "libjanus_sip.so", "libjanus_streaming.so", "libjanus_textroom.so",
                   "libjanus_videocall.so", "libjanus_voicemail.so")


@dataclass(frozen=True)
class JanusSetup:
    """What differs between Janus instances; the rest of the configuration is fixed."""

    address: str
    """The address the WebSocket API listens on (reachable by the room server and members)."""
    interface: str
    """The network interface (or address) ICE gathers on (``ice_enforce_list``): Janus never
    gathers on loopback, and must not offer addresses members cannot reach."""
    api_secret: str
    """``api_secret``: what the room server's requests carry."""
    token_secret: str
    """``token_auth_secret``: members' requests carry tokens the room server signs with it."""
    admin_key: str
    """VideoRoom ``admin_key``: needed to create rooms."""
    admin_secret: str
    """``admin_secret`` of the Admin API, with which the room server ends a removed
    member's Janus sessions."""
    admin_address: str = ""
    """The address the Admin API listens on ("": ``address``); only the room server needs
    to reach it, so a private address (or a firewall on its port) is better."""
    ws_port: int = WS_PORT
    admin_ws_port: int = ADMIN_WS_PORT
    rtp_ports: str = RTP_PORTS
    """``min-max`` UDP ports for media."""
    library: str = LIBRARY
    server_name: str = "roomcall-janus"
    session_timeout: int = 60
    """Seconds Janus keeps a session with no request (the room server's keepalive is 25 s)."""
    debug_level: int = 4

    @property
    def url(self) -> str:
        """The WebSocket API's URL."""
        return f"ws://{self.address}:{self.ws_port}"

    @property
    def admin_url(self) -> str:
        """The Admin API's URL (WebSocket, subprotocol ``janus-admin-protocol``)."""
        return f"ws://{self.admin_address or self.address}:{self.admin_ws_port}"


def generate_setup(address: str, interface: str, **kwargs: object) -> JanusSetup:
    """A :class:`JanusSetup` with new random secrets (32 bytes each)."""
    return JanusSetup(address, interface, api_secret=secrets.token_urlsafe(32),
                      token_secret=secrets.token_urlsafe(32),
                      admin_key=secrets.token_urlsafe(32),
                      admin_secret=secrets.token_urlsafe(32), **kwargs)  # type: ignore[arg-type]


def _quote(text: str) -> str:
    # libconfig strings: JSON's escaping of quotes and backslashes is the same.
    return json.dumps(text)


def janus_configs(setup: JanusSetup, folder: str | Path) -> dict[str, str]:
    """The files of a Janus configuration folder ``folder`` for ``setup``, by file name."""
    folder = str(folder)
    core = f"""\
# Janus for roomcall: WebSocket APIs only, secrets set, ICE on one interface.
general: {{
\tconfigs_folder = {_quote(folder)}
\tplugins_folder = "{setup.library}/plugins"
\ttransports_folder = "{setup.library}/transports"
\tevents_folder = "{setup.library}/events"
\tloggers_folder = "{setup.library}/loggers"
\tdebug_level = {setup.debug_level}
\tserver_name = {_quote(setup.server_name)}
\tsession_timeout = {setup.session_timeout}
\tapi_secret = {_quote(setup.api_secret)}
\ttoken_auth = true
\ttoken_auth_secret = {_quote(setup.token_secret)}
\tadmin_secret = {_quote(setup.admin_secret)}
}}
media: {{
\trtp_port_range = "{setup.rtp_ports}"
}}
nat: {{
\tice_enforce_list = {_quote(setup.interface)}
}}
plugins: {{
\tdisable = "{",".join(_UNUSED_PLUGINS)}"
}}
transports: {{
\tdisable = "{",".join(_UNUSED_TRANSPORTS)}"
}}
events: {{
\tbroadcast = false
}}
"""
    websockets = f"""\
general: {{
\tjson = "compact"
\tws = true
\tws_port = {setup.ws_port}
\tws_ip = {_quote(setup.address)}
\twss = false
}}
admin: {{
\tadmin_ws = true
\tadmin_ws_port = {setup.admin_ws_port}
\tadmin_ws_ip = {_quote(setup.admin_address or setup.address)}
\tadmin_wss = false
}}
"""
    videoroom = f"""\
general: {{
\tadmin_key = {_quote(setup.admin_key)}
\tlock_rtp_forward = true
\tstring_ids = true
\tevents = false
}}
"""
    return {"janus.jcfg": core, "janus.transport.websockets.jcfg": websockets,
            "janus.plugin.videoroom.jcfg": videoroom}


def write_janus_configs(setup: JanusSetup, folder: str | Path) -> Path:
    """Write :func:`janus_configs` into ``folder`` (created; files readable by the owner
    only, as they hold secrets); returns the path of ``janus.jcfg``."""
    path = Path(folder)
    path.mkdir(parents=True, exist_ok=True)
    for name, text in janus_configs(setup, path.resolve()).items():
        target = path / name
        target.touch(mode=0o600)
        target.chmod(0o600)
        target.write_text(text)
    return path / "janus.jcfg"


def sfu_lines(setup: JanusSetup) -> str:
    """The ``[[sfu.instances]]`` entry of ``roomcall serve``'s config for ``setup``."""
    return (f"[[sfu.instances]]\nurl = \"{setup.url}\"\n"
            f"admin_url = \"{setup.admin_url}\"\n"
            f"api_secret = {_quote(setup.api_secret)}\n"
            f"token_secret = {_quote(setup.token_secret)}\n"
            f"admin_key = {_quote(setup.admin_key)}\n"
            f"admin_secret = {_quote(setup.admin_secret)}\n")


def main(argv: list[str] | None = None) -> int:
    """``python -m roomcall.server.janus_config``: write a folder, print the ``[sfu]`` lines."""
    parser = argparse.ArgumentParser(prog="python -m roomcall.server.janus_config",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", required=True, help="folder to write the .jcfg files into")
    parser.add_argument("--address", required=True, help="address the WebSocket API listens on")
    parser.add_argument("--interface", required=True, help="interface ICE gathers on")
    parser.add_argument("--ws-port", type=int, default=WS_PORT)
    parser.add_argument("--rtp-ports", default=RTP_PORTS)
    args = parser.parse_args(argv)
    setup = generate_setup(args.address, args.interface, ws_port=args.ws_port,
                           rtp_ports=args.rtp_ports)
    core = write_janus_configs(setup, args.out)
    print(f"# start: janus -F {core.parent} -C {core}\n# roomcall serve's config:\n[sfu]")
    print(sfu_lines(setup), end="")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
