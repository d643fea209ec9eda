"""Workarounds for aiortc and aioice behaviour, in one package so that an upgrade of either is
five short modules to re-check. Each names what it works around upstream: the issue where one
exists, else the code path and version (aiortc 1.16.0, aioice 0.13.0). Nothing else in roomcall
reads or writes a private attribute of either library.

- :mod:`.ice`: host addresses gathered, every STUN and TURN URL used;
- :mod:`.sending`: sender feedback, bounded retransmissions, pacing, keyframe requests;
- :mod:`.receiving`: receive buffers, flushing, stalls, keyframe asks;
- :mod:`.closing`: closing peer connections promptly (TURN allocations included);
- :mod:`.counters`: received bytes and retransmission streams, for call stats.
"""

from roomcall.sdk.compat.closing import (
    ICE_SETTLE_TIMEOUT,
    TURN_DELETE_TIMEOUT,
    bound_turn_deletion,
    close_connection,
    packets_received,
    set_local_description,
    stop_ice_abruptly,
)
from roomcall.sdk.compat.counters import (
    count_received_bytes,
    received_bytes,
    retransmission_ssrcs,
)
from roomcall.sdk.compat.ice import (
    GATHER_TIMEOUT,
    RELAY_GRACE,
    gather_from_every_ice_server,
    restrict_host_addresses,
)
from roomcall.sdk.compat.receiving import (
    BACKLOG_PLI_INTERVAL,
    VIDEO_BACKLOG_FRAMES,
    VIDEO_GAP_WAIT,
    bound_video_gaps,
    end_remote_track,
    flush_receiver,
    negotiated_codecs,
    request_keyframe,
    stalled_at,
    unbuffered_audio_receivers,
)
from roomcall.sdk.compat.sending import (
    RTP_HISTORY_SIZE,
    SenderFeedback,
    route_keyframe_requests,
    tap_sender_feedback,
)

__all__ = [
    "BACKLOG_PLI_INTERVAL",
    "GATHER_TIMEOUT",
    "ICE_SETTLE_TIMEOUT",
    "RELAY_GRACE",
    "RTP_HISTORY_SIZE",
    "TURN_DELETE_TIMEOUT",
    "VIDEO_BACKLOG_FRAMES",
    "VIDEO_GAP_WAIT",
    "SenderFeedback",
    "bound_turn_deletion",
    "bound_video_gaps",
    "close_connection",
    "count_received_bytes",
    "end_remote_track",
    "flush_receiver",
    "gather_from_every_ice_server",
    "negotiated_codecs",
    "packets_received",
    "received_bytes",
    "request_keyframe",
    "restrict_host_addresses",
    "retransmission_ssrcs",
    "route_keyframe_requests",
    "set_local_description",
    "stalled_at",
    "stop_ice_abruptly",
    "tap_sender_feedback",
    "unbuffered_audio_receivers",
]
