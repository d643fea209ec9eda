"""The SFU's RTP streams as :class:`~roomcall.sdk.figures.StreamCounters`, for stats and
network quality (:mod:`roomcall.sdk.figures`).

Outbound: each stream of the one publisher connection (``peer_id`` ``""``: one stream serves
every member; its receiver reports come from Janus), a camera's two layers as two streams.
Inbound: each m-line of the subscriber connection, named by the roomcall track it carries now
(the subscriber maps Janus's mids back to publishers' media ids). Counted as the mesh counts
(:class:`~roomcall.sdk.mesh_figures.MeshFigures`), from the same aiortc statistics.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from roomcall.sdk.figures import StreamCounters
from roomcall.sdk.mesh_figures import DrainOf, MeshFigures

if TYPE_CHECKING:
    from roomcall.sdk.mesh import Mesh
    from roomcall.sdk.sfu import Sfu

__all__ = ["TopologyFigures"]


class TopologyFigures(MeshFigures):
    """The streams of the mesh and of the current route's SFU, whichever carry media now."""

    def __init__(self, mesh: Mesh, sfu: SfuOf, drain_of: DrainOf) -> None:
        super().__init__(mesh, drain_of)
        self._sfu = sfu

    async def stream_counters(self) -> list[StreamCounters]:
        """The mesh pairs' streams, then the SFU's."""
        result = await super().stream_counters()
        sfu = self._sfu()
        if sfu is None:
            return result
        self._encoding = sfu
        try:
            publisher = sfu.publisher_connection
            if publisher is not None:
                for transceiver in publisher.getTransceivers():
                    sent = await self._sent("", transceiver)
                    if sent is not None:
                        result.append(sent)
            subscriber = sfu.subscriber
            if subscriber is not None:
                for transceiver in subscriber.pc.getTransceivers():
                    key = subscriber.key_of_mid(transceiver.mid)
                    if key is not None:
                        got = await self._received(key[0], transceiver, key[1])
                        if got is not None:
                            result.append(got)
        finally:
            self._encoding = self._mesh
        return result


if TYPE_CHECKING:
    from collections.abc import Callable

    SfuOf = Callable[[], Sfu | None]
