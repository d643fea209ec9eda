"""The media route of each member: when a room moves from the mesh to the SFU, what each
member is told, and which Janus work each change of membership asks for. No I/O: the rooms
core calls these with ``now``, and the SFU shell (:mod:`roomcall.server.sfu`) does the work
the returned :class:`~roomcall.server.room.MediaOp` values describe.

A room moves once, and stays on the SFU until it closes: when the server has Janus instances
and either ``[sfu] always`` or the room reaches its app's ``sfu_threshold`` members. Members
learn their route in ``joined`` (mesh until the VideoRoom exists) and then from a
``media_route`` push, each with its own tokens.
"""

from __future__ import annotations

from roomcall.protocol.janus import sign_janus_token
from roomcall.protocol.messages import MESH, MediaRoute, MediaRouteChanged
from roomcall.server.config import ServerConfig
from roomcall.server.room import Effects, MediaOp, Member, Placement, Room

PUBLISHERS_PER_MEMBER = 3
"""VideoRoom feeds one member may publish: its camera twice (full and a low layer, since
aiortc has no simulcast) and a screen."""


def move_reason(room: Room, config: ServerConfig) -> str:
    """Why ``room`` must move to the SFU now (``"always"``, ``"threshold"``), or ""."""
    if room.on_sfu or not config.sfu.instances:
        return ""
    if config.sfu.always:
        return "always"
    threshold = room.settings.sfu_threshold
    if threshold > 0 and len(room.members) >= threshold:
        return "threshold"
    return ""


def max_publishers(room: Room, config: ServerConfig) -> int:
    """The ``publishers`` cap of the room's VideoRoom: every member it may hold, each with
    :data:`PUBLISHERS_PER_MEMBER` feeds."""
    most = config.limits.max_room_members
    if 0 < room.settings.max_users < most:
        most = room.settings.max_users
    return most * PUBLISHERS_PER_MEMBER


def route_for(room: Room, member: Member, config: ServerConfig, now: float) -> MediaRoute:
    """What ``member`` is told of the room's media at ``now``: the mesh, or the VideoRoom
    with a core token valid for ``[sfu] token_ttl`` seconds."""
    placement = room.placement
    if not room.on_sfu or placement is None:
        return MESH
    token = sign_janus_token(placement.token_secret, int(now) + config.sfu.token_ttl)
    return MediaRoute(topology="sfu", janus_url=placement.janus_url,
                      janus_room=placement.janus_room, janus_token=token,
                      room_token=member.room_token, publisher_id=member.publisher_id)


def after_join(room: Room, member: Member, config: ServerConfig, effects: Effects) -> None:
    """``member`` was seated: admit it to the VideoRoom, or move the room if it has grown."""
    if room.on_sfu:
        effects.media.append(MediaOp("admit", room.app_id, room.name, member.room_token,
                                     member.publisher_id))
        return
    reason = move_reason(room, config)
    if reason:
        room.on_sfu = True
        effects.media.append(MediaOp("place", room.app_id, room.name, reason=reason,
                                     publishers=max_publishers(room, config)))


def after_removal(room: Room, member: Member, reason: str, effects: Effects) -> None:
    """``member``'s seat is gone (``reason``: left, timed out, kicked, replaced): out of the
    VideoRoom, its token refused from now on, its publishers kicked (and, unless it left by
    itself, its Janus sessions ended)."""
    if room.on_sfu:
        effects.media.append(MediaOp("remove", room.app_id, room.name, member.room_token,
                                     member.publisher_id, reason=reason))


def after_close(room: Room, effects: Effects) -> None:
    """``room`` closed: its VideoRoom is destroyed."""
    if room.on_sfu:
        effects.media.append(MediaOp("close", room.app_id, room.name))


def place(room: Room, placement: Placement, reason: str, config: ServerConfig, now: float,
          effects: Effects) -> float:
    """The room's VideoRoom exists at ``placement``: every connected member gets its route
    (members away get theirs in the ``joined`` of their resume). Returns when the tokens
    must be renewed (:func:`renew`): half way through their lifetime."""
    room.placement = placement
    push(room, reason, config, now, effects)
    room.renew_at = now + config.sfu.token_ttl / 2
    return room.renew_at


def renew(room: Room, config: ServerConfig, now: float, effects: Effects) -> float | None:
    """Fresh core tokens for every connected member of a placed room (``renewed``), before
    the old ones expire; when to renew next, or None if the room is not placed."""
    if room.placement is None:
        room.renew_at = None
        return None
    return place(room, room.placement, "renewed", config, now, effects)


def push(room: Room, reason: str, config: ServerConfig, now: float, effects: Effects) -> None:
    """Every connected member's route now, as a ``media_route`` push with ``reason``."""
    for member in room.members.values():
        if member.connected:
            effects.send(member.session_id,
                         MediaRouteChanged(route_for(room, member, config, now), reason))


def largest_route(config: ServerConfig) -> MediaRoute:
    """The longest ``media`` route a ``joined`` may carry under ``config`` (for the bound of
    a frame's size): its longest Janus URL (plain ASCII), tokens and ids of the lengths the
    server makes them; the mesh's when there are no instances."""
    if not config.sfu.instances:
        return MESH
    url = max(len(i.url) for i in config.sfu.instances)
    return MediaRoute(topology="sfu", janus_url="w" * url, janus_room="r" * 16,
                      janus_token="9" * 10 + ",janus,janus.plugin.videoroom:" + "x" * 28,
                      room_token="t" * 32, publisher_id="u" * 50 + "~" + "f" * 6)
