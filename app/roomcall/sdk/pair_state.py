"""The state of one mesh pair's media path, the moves allowed between states, and the rule
that turns repeated failures into FAILED.

::

    CONNECTING --connected--> CONNECTED --failed / closed--> RECOVERING --connected--.
        |                         ^                              |                   |
        '------ failed ------> RECOVERING        (attempts used up) v                |
                                  ...            FAILED --a later retry connected----'
    any state --member left / mesh closed--> CLOSED (final)

The rule (:class:`RecoveryPolicy`): an *attempt* is one RTCPeerConnection of the pair. It
fails when aiortc reports it ``failed`` or ``closed`` (consent lost after ~30 s without
traffic, DTLS closed by the far side, ICE found no working candidate pair), when it has not
connected within ``connect_timeout`` of its first exchange, or when, connected, nothing has
arrived from a far side that sends for six one-second checks (``pair_watch.SILENT_CHECKS``: a
changed address or a cut that ICE consent has not noticed yet; three once the signalling said
its member is back from a gap), or, not connected yet, when the far side gave up on it and
started a fresh one (so both members count the attempt, whichever check fired first). After a
failed attempt the pair
starts a fresh connection (the offerer offers on it; the answerer asks for an offer): RECOVERING.
After
``attempts`` failed attempts in a row without being connected in between, the pair is FAILED;
it keeps trying in the background every ``connect_timeout`` while both members are in the
room, so a path that comes back (the network returns) is used again: CONNECTED.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from roomcall.sdk.state import PeerState


class PairState(enum.Enum):
    """Where one pair's media path stands; all but CLOSED are reported as a PeerState."""

    CONNECTING = "CONNECTING"
    CONNECTED = "CONNECTED"
    RECOVERING = "RECOVERING"
    FAILED = "FAILED"
    CLOSED = "CLOSED"

    @property
    def peer_state(self) -> PeerState | None:
        """What ``peer_state_changed`` reports for this state (None for CLOSED)."""
        return None if self is PairState.CLOSED else PeerState(self.value)


_P = PairState

TRANSITIONS: dict[PairState, frozenset[PairState]] = {
    _P.CONNECTING: frozenset({_P.CONNECTED, _P.RECOVERING, _P.FAILED, _P.CLOSED}),
    _P.CONNECTED: frozenset({_P.RECOVERING, _P.CLOSED}),
    _P.RECOVERING: frozenset({_P.CONNECTED, _P.FAILED, _P.CLOSED}),
    _P.FAILED: frozenset({_P.CONNECTED, _P.CLOSED}),
    _P.CLOSED: frozenset(),
}
"""The states each state may move to; anything else is a bug and raises."""


@dataclass(frozen=True)
class RecoveryPolicy:
    """When a pair counts as failed, and how hard it tries again."""

    attempts: int = 3
    """Failed connections in a row after which the pair is FAILED."""
    connect_timeout: float = 7.0
    """Seconds a connection may take to connect before it counts as failed. Short enough that
    media flows again within 10 s of a lost network returning (a fresh attempt is at most this
    far away and connects in about a second)."""
    offline_connect_timeout: float = 2.0
    """The same for a connection whose candidates were gathered while no ICE server answered
    (the network was down: an attempt begun during an outage, its offer or answer delivered
    late by the signalling's TCP). Across NATs it can never connect; on one LAN its host
    candidates connect well within this."""
