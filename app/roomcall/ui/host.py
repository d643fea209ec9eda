"""The embedded room server a person hosts their rooms on, and the invites it mints.

Its guests are handed ICE servers from the person's own Settings, as ``roomcall serve`` hands
out its ``[ice]``: the STUN servers, and the TURN servers whose credential is coturn's
``static-auth-secret`` (each guest gets a short-lived credential minted from it). A TURN
password of the person's own is never handed out: anyone holding an invite link would have it
for good. (The host's own calls use every server, its relay included, which connects the host
with guests behind any NAT; pairs of guests behind symmetric NATs need the secret.)
"""

from __future__ import annotations

import errno
import logging
import socket
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from roomcall.protocol.ice import check_ice_url
from roomcall.ui.ice_servers import CREDENTIAL_TTL, IceServer
from roomcall.ui.invite import format_invite, user_id_for

if TYPE_CHECKING:
    from roomcall.server import RoomServer
    from roomcall.server.config import IceConfig

log = logging.getLogger(__name__)

DEFAULT_PORT = 7880
INVITE_TTL_SECONDS = 24 * 3600
"""How long an invite link admits its guest."""
HOST_TTL_SECONDS = 24 * 3600


def lan_address() -> str:
    """This computer's address on its local network (``127.0.0.1`` if there is none).

    Connecting a UDP socket sends nothing; it only makes the OS choose the outgoing address.
    """
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(("10.255.255.255", 1))
            address = str(probe.getsockname()[0])
        except OSError:
            return "127.0.0.1"
    return address if not address.startswith("0.") else "127.0.0.1"


class EmbeddedHost:
    """Runs ``roomcall.server.RoomServer`` in this process, on 127.0.0.1 unless the person chose
    to accept guests from the network (then on all interfaces).

    Args:
        data_dir: the server's data folder (keys and apps); None for the user's default.
        port: the port to try first; if it is taken, a free one is used.
        server_config: extra ``ServerConfig`` fields (tests shorten lifecycle durations).
    """

    def __init__(self, data_dir: Path | None = None, port: int = DEFAULT_PORT,
                 **server_config: Any) -> None:
        self._data_dir = data_dir
        self._port = port
        self._extra = server_config
        self._server: RoomServer | None = None
        self._network = False
        self._ice: IceConfig | None = None

    @property
    def server(self) -> RoomServer | None:
        """The running ``RoomServer`` (None before :meth:`ensure`)."""
        return self._server

    @property
    def accepts_network_guests(self) -> bool:
        """True when listening on every interface."""
        return self._server is not None and self._network

    async def ensure(self, network: bool, ice_servers: Sequence[IceServer] = ()) -> RoomServer:
        """The running server, (re)started to listen where ``network`` says and to hand its
        guests what ``ice_servers`` (the person's Settings) allow; see the module docstring."""
        ice = guest_ice(ice_servers)
        if self._server is not None and (self._network, self._ice) == (network, ice):
            return self._server
        await self.stop()
        from roomcall.server import RoomServer, ServerConfig

        host = "0.0.0.0" if network else "127.0.0.1"
        fields: dict[str, Any] = {**self._extra, "ice": ice}
        if self._data_dir is not None:
            fields["data_dir"] = Path(self._data_dir)
        from roomcall.server.store import StoreError

        server = RoomServer(ServerConfig(host=host, port=self._port, **fields))
        try:
            try:
                await server.start()
            except OSError as exc:
                if self._port == 0:
                    raise
                log.info("port %d is taken (%s): using a free one", self._port, exc)
                server = RoomServer(ServerConfig(host=host, port=0, **fields))
                await server.start()
        except StoreError as exc:
            # e.g. another roomcall (a second app, or `roomcall serve`) holds the data folder:
            # the caller reports OSErrors to the person with their text
            raise OSError(errno.EBUSY, str(exc)) from exc
        self._server, self._network, self._ice = server, network, ice
        return server

    def host_token(self, room: str, user_id: str) -> str:
        """An admin RoomToken for the person hosting ``room``."""
        return str(self._require().token(room, user_id, admin=True, ttl=HOST_TTL_SECONDS))

    def invite(self, room: str, guest_name: str) -> str:
        """A fresh invite link to ``room`` for a guest called ``guest_name``."""
        server = self._require()
        token = server.token(room, user_id_for(guest_name), admin=False, ttl=INVITE_TTL_SECONDS)
        address = lan_address() if self._network else "127.0.0.1"
        return format_invite(address, int(server.port), room, str(token))

    @property
    def link_host(self) -> str:
        """The address guests reach this server at (for invite links)."""
        return lan_address() if self._network else "127.0.0.1"

    @property
    def url(self) -> str:
        """The URL the host's own client joins on."""
        return str(self._require().url)

    async def stop(self, cause: str = "shutdown") -> None:
        """Stop the server: its rooms close first, members told ``cause`` (``"ended"``: the
        host ended the call; ``"shutdown"``: the server stopped)."""
        server, self._server = self._server, None
        if server is not None:
            await server.stop(cause=cause)

    def _require(self) -> RoomServer:
        if self._server is None:
            raise RuntimeError("the embedded server is not running")
        return self._server


def guest_ice(servers: Sequence[IceServer]) -> IceConfig:
    """The ``[ice]`` of the embedded server: the STUN servers of ``servers`` and the TURN
    servers sharing the first secret (one secret per server, as in ``roomcall serve``).
    Entries the server cannot hand out (``stuns:``, another secret, a password) are logged
    and left to the host's own calls."""
    from roomcall.server.config import IceConfig

    stun: list[str] = []
    turn: list[str] = []
    secret: str | None = None
    for server in servers:
        url = server.url.strip()
        try:
            check_ice_url(url)
        except ValueError as exc:
            log.info("not handed to guests: %s", exc)
            continue
        if not server.is_turn:
            stun.append(url)
        elif server.uses_secret and secret in (None, server.credential):
            secret = server.credential
            turn.append(url)
        else:
            log.info("not handed to guests: %s (%s)", url, "another secret" if
                     server.uses_secret else "a password of the host's own")
    return IceConfig(stun_urls=tuple(stun), turn_urls=tuple(turn), turn_secret=secret,
                     turn_credential_ttl=CREDENTIAL_TTL)
