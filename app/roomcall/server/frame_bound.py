"""The largest frame the room server may send under a configuration's limits
(``docs/protocol.md``): what clients must be able to read, and where the server drops a
connection rather than send it more."""

from __future__ import annotations

from roomcall.protocol.messages import Joined, MemberInfo, TrackInfo, serialize
from roomcall.server import media_routes
from roomcall.server.config import ServerConfig


def largest_server_frame(config: ServerConfig) -> int:
    """Bytes of the largest frame the server may send under ``config``'s limits: a ``joined``
    snapshot of a full room whose every member has the longest user id and ``user_data``,
    and the most tracks with the longest tags (all text of control characters, which JSON
    spells as six bytes each: the worst case), or else an echoed frame at the frame limit."""
    limits = config.limits
    worst = "\x01"
    track = TrackInfo(track_id="t" + "9" * 20, kind="audio", tag=worst * limits.max_tag_bytes,
                      muted=False, media_id=worst * limits.max_tag_bytes)
    tracks = (track,) * limits.max_tracks_per_member
    member = MemberInfo(user_id="u" * 50, user_data=worst * limits.max_user_data_bytes,
                        permission="admin", tracks=tracks, reconnecting=True,
                        publisher_id="u" * 50 + "~" + "f" * 6)
    joined = Joined(req=-(2**53), session_id="s" * 22, room="r" * 64, user_id="u" * 50,
                    permission="admin", members=(member,) * (limits.max_room_members - 1),
                    server_time=2**53, heartbeat_interval=config.heartbeat_interval,
                    reconnect_window=config.silent_user_timeout, resumed=True, tracks=tracks,
                    media=media_routes.largest_route(config))
    # A message or relay is re-serialised from a frame within the frame limit; the server's
    # stamps (sender id, time, a generated id) add less than 256 bytes.
    return max(len(serialize(joined).encode()), limits.max_frame_bytes + 256)
