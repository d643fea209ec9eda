"""``roomcall --self-test``: a headless end-to-end check of a roomcall installation.

It starts an embedded room server on 127.0.0.1 (a free port, a throw-away data folder), joins
two clients, an admin "alice" and a user "bob", each publishing a synthetic test pattern and a
tone of its own, and checks what a call needs::

    PASS server: listening on ws://127.0.0.1:40133
    PASS join: alice (admin) and bob see each other
    PASS video alice->bob: 3 frames decoded, identity ok, counters 41 < 44 < 47
    ...
    PASS kick: bob DISCONNECTED/KICKED_OUT (code 10006), alice saw bob leave
    self-test passed: 9 of 9 checks in 3.1 s

No display, camera or microphone is needed; nothing leaves the loopback interface. Every wait
has a timeout and the whole run is bounded (about 20 s); the server is stopped and both
clients have left when it returns, whatever failed. Exit status 0 only if every check passed.

Waits use ``asyncio.wait`` with a timeout and then cancel, rather than ``asyncio.wait_for``:
``wait_for`` waits for the cancelled operation to finish, so an operation that swallows its
cancellation would hang the run past any timeout.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import functools
import inspect
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

if TYPE_CHECKING:
    from roomcall.sdk import RTCClient
    from roomcall.sdk.tracks import RemoteTrack

__all__ = ["CHECKS", "run_self_test"]

ROOM = "self-test"
ALICE, BOB = "alice", "bob"
TONES = {ALICE: 440.0, BOB: 660.0}
"""Each sender's tone (Hz): the receiver must hear the right one, not just any sound."""
TONE_TOLERANCE = 30.0
"""Largest error (Hz) of a heard tone; 20 ms frames give 50 Hz bins, refined by the FFT peak
interpolation to a few Hz."""
FRAMES_NEEDED = 3
"""Decoded video frames (right identity, rising counters) / matching audio frames per check."""

CHECKS = ("server", "join", "publish", f"video {ALICE}->{BOB}", f"video {BOB}->{ALICE}",
          f"audio {ALICE}->{BOB}", f"audio {BOB}->{ALICE}", "message", "kick")
"""Every check, in the order they are reported."""

_STEP_TIMEOUT = 8.0
_CLEANUP_TIMEOUT = 3.0


class CheckFailed(Exception):
    """A check did not hold; the message says what was seen instead."""


@dataclass
class _Peer:
    """One self-test client and what it has received so far."""

    name: str
    client: RTCClient
    tracks: dict[str, asyncio.Future[RemoteTrack]] = field(default_factory=dict)
    joined: dict[str, asyncio.Future[None]] = field(default_factory=dict)
    left: dict[str, asyncio.Future[None]] = field(default_factory=dict)
    messages: asyncio.Queue[Any] = field(default_factory=asyncio.Queue)
    disconnected: asyncio.Future[Any] = field(
        default_factory=lambda: asyncio.get_running_loop().create_future())

    def expect(self, table: dict[str, asyncio.Future[Any]], key: str) -> asyncio.Future[Any]:
        """The future of ``key`` in ``table``, created on first use."""
        if key not in table:
            table[key] = asyncio.get_running_loop().create_future()
        return table[key]

    def listen(self) -> None:
        """Route the client's events into futures and queues the checks wait on."""
        from roomcall.sdk import ConnectionState

        def settle(future: asyncio.Future[Any], value: Any) -> None:
            if not future.done():
                future.set_result(value)

        def on_state(state: ConnectionState, info: Any) -> None:
            if state is ConnectionState.DISCONNECTED:
                settle(self.disconnected, info)

        c = self.client
        c.on("user_joined", lambda user_id, _data: settle(self.expect(self.joined, user_id), None))
        c.on("user_left", lambda user_id: settle(self.expect(self.left, user_id), None))
        c.on("track_subscribed", lambda user_id, track: settle(
            self.expect(self.tracks, f"{user_id}/{track.kind}"), track))
        c.on("message_received", self.messages.put_nowait)
        c.on("connection_state_changed", on_state)


class _Run:
    """The checks of one self-test run, their results and its deadline."""

    def __init__(self, out: TextIO, budget: float) -> None:
        self.out = out
        self.started = time.monotonic()
        self.deadline = self.started + budget
        self.results: dict[str, tuple[bool, str]] = {}

    def remaining(self, cap: float = _STEP_TIMEOUT) -> float:
        """Seconds a wait may take: ``cap``, or less near the run's deadline."""
        return max(0.0, min(cap, self.deadline - time.monotonic()))

    async def wait(self, awaitable: Awaitable[Any], what: str, cap: float = _STEP_TIMEOUT) -> Any:
        """Await with a timeout; a timeout becomes CheckFailed naming ``what``."""
        timeout = self.remaining(cap)
        if timeout <= 0.0:  # none left: an operation that needs no real wait must fail too
            if inspect.iscoroutine(awaitable):
                awaitable.close()
            raise CheckFailed(f"timed out after {timeout:.1f} s waiting for {what}")
        task = asyncio.ensure_future(awaitable)
        done, _ = await asyncio.wait({task}, timeout=timeout)
        if not done:
            task.cancel()  # not awaited: _close_loop sweeps up whatever ignores it
            raise CheckFailed(f"timed out after {timeout:.1f} s waiting for {what}")
        return task.result()

    async def check(self, name: str, body: Callable[[], Awaitable[str]]) -> bool:
        """Run one check, record and print its line; True if it passed."""
        return self.record(name, *await self.attempt(body))

    async def attempt(self, body: Callable[[], Awaitable[str]]) -> tuple[bool, str]:
        """Run a check's body: ``(True, detail)`` or ``(False, what went wrong)``."""
        try:
            return True, await body()
        except CheckFailed as exc:
            return False, str(exc)
        except Exception as exc:  # any crash is a failed check, with its type for diagnosis
            return False, f"{type(exc).__name__}: {exc}"

    def record(self, name: str, ok: bool, detail: str) -> bool:
        self.results[name] = (ok, detail)
        self.out.write(f"{'PASS' if ok else 'FAIL'} {name}: {detail}\n")
        self.out.flush()
        return ok

    def skip_rest(self, reason: str) -> None:
        for name in CHECKS:
            if name not in self.results:
                self.record(name, False, f"not run ({reason})")

    def summary(self) -> int:
        passed = sum(ok for ok, _ in self.results.values())
        seconds = time.monotonic() - self.started
        if passed == len(CHECKS):
            self.out.write(f"self-test passed: {passed} of {len(CHECKS)} checks "
                           f"in {seconds:.1f} s\n")
            return 0
        self.out.write(f"self-test FAILED: {len(CHECKS) - passed} of {len(CHECKS)} checks "
                       f"failed ({seconds:.1f} s)\n")
        return 1


def run_self_test(*, budget: float = 20.0, out: TextIO | None = None) -> int:
    """Run every check, print one line per check and a summary to ``out`` (stdout by default).

    Returns the process exit status: 0 if every check passed, else 1.
    """
    run = _Run(out or sys.stdout, budget)
    loop = asyncio.new_event_loop()
    # aiortc encodes and decodes on the default executor. asyncio.run() would join its threads
    # at the end, and a stuck job would hang the exit (media-facts); ours is let go instead.
    executor = concurrent.futures.ThreadPoolExecutor(thread_name_prefix="self-test")
    loop.set_default_executor(executor)
    try:
        loop.run_until_complete(_main(run))
    except Exception as exc:  # the harness itself broke (e.g. a missing module in a bundle)
        run.skip_rest(f"{type(exc).__name__}: {exc}")
    finally:
        _close_loop(loop, executor)
    run.skip_rest("run ended early")
    return run.summary()


def _close_loop(loop: asyncio.AbstractEventLoop,
                executor: concurrent.futures.ThreadPoolExecutor) -> None:
    """Cancel what is left, give it a bounded time to end, and close the loop regardless."""
    pending = [task for task in asyncio.all_tasks(loop) if not task.done()]
    for task in pending:
        task.cancel()
    closing = [*pending, loop.create_task(loop.shutdown_asyncgens())]
    loop.run_until_complete(asyncio.wait(closing, timeout=_CLEANUP_TIMEOUT))
    for task in closing:
        if task.done() and not task.cancelled():
            task.exception()  # retrieved: no "exception was never retrieved" noise
    executor.shutdown(wait=False, cancel_futures=True)
    loop.close()


async def _main(run: _Run) -> None:
    from roomcall.server import RoomServer, ServerConfig

    # ignore_cleanup_errors: on Windows a store the server failed to close stays locked.
    with tempfile.TemporaryDirectory(prefix="roomcall-selftest-",
                                     ignore_cleanup_errors=True) as data_dir:
        server = RoomServer(ServerConfig(host="127.0.0.1", port=0, data_dir=Path(data_dir)))
        peers: list[_Peer] = []
        try:
            if await run.check("server", lambda: _start(run, server)):
                await _calls(run, server, peers)
        finally:
            await _cleanup(peers, server)


async def _start(run: _Run, server: Any) -> str:
    await run.wait(server.start(), "the server to listen")
    return f"listening on {server.url}"


async def _calls(run: _Run, server: Any, peers: list[_Peer]) -> None:
    from roomcall.media.synthetic import SyntheticAudioTrack, SyntheticVideoTrack
    from roomcall.sdk import RTCClient
    from roomcall.sdk.compat import restrict_host_addresses

    # Both clients are in this process: their media stays on loopback like their signalling.
    restrict_host_addresses(["127.0.0.1"])
    alice = _Peer(ALICE, RTCClient(server.url))
    bob = _Peer(BOB, RTCClient(server.url))
    peers += [alice, bob]
    for peer in peers:
        peer.listen()

    async def join() -> str:
        await run.wait(alice.client.join(server.token(ROOM, ALICE, admin=True)), "alice to join")
        await run.wait(bob.client.join(server.token(ROOM, BOB)), "bob to join")
        await run.wait(alice.expect(alice.joined, BOB), "alice to see bob join")
        await run.wait(bob.expect(bob.joined, ALICE), "bob to see alice in the room")
        return "alice (admin) and bob see each other"

    async def publish() -> str:
        for peer in peers:
            tracks = [SyntheticVideoTrack(peer.name),
                      SyntheticAudioTrack(frequency=TONES[peer.name])]
            await run.wait(peer.client.publish(tracks), f"{peer.name} to publish")
        for receiver, sender in ((alice, bob), (bob, alice)):
            for kind in ("video", "audio"):
                await run.wait(receiver.expect(receiver.tracks, f"{sender.name}/{kind}"),
                               f"{receiver.name} to receive {sender.name}'s {kind}")
        return "video and audio published by both, received by the other"

    if not await run.check("join", join):
        return
    if await run.check("publish", publish):
        # The four media checks wait on independent tracks: run them at once, report in order.
        media = {
            f"{kind} {a.name}->{b.name}": functools.partial(receive, run, b, a.name)
            for kind, receive in (("video", _video), ("audio", _audio))
            for a, b in ((alice, bob), (bob, alice))
        }
        outcomes = await asyncio.gather(*(run.attempt(body) for body in media.values()))
        for name, outcome in zip(media, outcomes, strict=True):
            run.record(name, *outcome)
    await run.check("message", lambda: _message(run, alice, bob))
    await run.check("kick", lambda: _kick(run, alice, bob))


async def _video(run: _Run, receiver: _Peer, sender: str) -> str:
    """The receiver decodes the sender's pattern: its identity, counters rising."""
    from roomcall.media.synthetic import decode_pattern, identity_code

    track = receiver.tracks[f"{sender}/video"].result()
    expected = identity_code(sender)
    counters: list[int] = []
    undecodable = 0
    while len(counters) < FRAMES_NEEDED:
        frame = await run.wait(track.recv(), f"video frame {len(counters) + 1} from {sender} "
                               f"({len(counters)} decoded, {undecodable} undecodable)")
        info = decode_pattern(frame)
        if info is None:
            undecodable += 1
            continue
        if info.identity != expected:
            raise CheckFailed(f"pattern identity {info.identity:#010x}, expected "
                              f"{expected:#010x} ({sender})")
        if counters and info.counter <= counters[-1]:
            raise CheckFailed(f"frame counter went from {counters[-1]} to {info.counter}")
        counters.append(info.counter)
    from roomcall.media import libvpx

    library = libvpx.load()
    encoder = (f"VP8 through {library.path}" if library is not None
               else "VP8 through PyAV (libvpx not reachable: each new rate re-opens it)")
    return (f"{len(counters)} frames decoded, identity ok, counters "
            + " < ".join(map(str, counters)) + f"; {encoder}")


async def _audio(run: _Run, receiver: _Peer, sender: str) -> str:
    """The receiver hears the sender's own tone (not silence, not the other tone)."""
    from roomcall.media.synthetic import dominant_frequency

    track = receiver.tracks[f"{sender}/audio"].result()
    expected = TONES[sender]
    heard: list[float] = []
    frames = 0
    while len(heard) < FRAMES_NEEDED:
        frame = await run.wait(track.recv(), f"{expected:.0f} Hz from {sender} "
                               f"({frames} frames heard, last {_last(heard, frames)})")
        frames += 1
        frequency = dominant_frequency(frame)
        if abs(frequency - expected) <= TONE_TOLERANCE:
            heard.append(frequency)
    return (f"{expected:.0f} Hz tone heard ({', '.join(f'{f:.0f}' for f in heard)} Hz) "
            f"after {frames} frames")


def _last(heard: list[float], frames: int) -> str:
    return f"{heard[-1]:.0f} Hz" if heard else ("none" if frames == 0 else "no match")


async def _message(run: _Run, alice: _Peer, bob: _Peer) -> str:
    """A message alice addresses to bob arrives with alice as its sender."""
    content = f"roomcall self-test {time.time_ns()}"
    await run.wait(alice.client.send_message(content, [BOB]), "the message to be sent")
    message = await run.wait(bob.messages.get(), "bob to receive the message")
    if message.content != content:
        raise CheckFailed(f"bob received {message.content!r}, expected {content!r}")
    if message.user_id != ALICE:
        raise CheckFailed(f"message sender is {message.user_id!r}, expected {ALICE!r}")
    return f"bob received alice's message {message.message_id}"


async def _kick(run: _Run, alice: _Peer, bob: _Peer) -> str:
    """The admin's server-enforced kick disconnects bob with KICKED_OUT; alice sees him go."""
    from roomcall.sdk import ConnectionState, DisconnectReason

    await run.wait(alice.client.kick_user(BOB), "the kick to be accepted")
    info = await run.wait(bob.disconnected, "bob to be disconnected")
    await run.wait(alice.expect(alice.left, BOB), "alice to see bob leave")
    if info is None or info.reason is not DisconnectReason.KICKED_OUT:
        raise CheckFailed(f"bob disconnected with {info!r}, expected KICKED_OUT")
    if bob.client.connection_state is not ConnectionState.DISCONNECTED:
        raise CheckFailed(f"bob is {bob.client.connection_state.name} after the kick")
    return f"bob DISCONNECTED/KICKED_OUT (code {info.error_code}), alice saw bob leave"


async def _cleanup(peers: list[_Peer], server: Any) -> None:
    """Leave with every client, then stop the server, each step bounded; never raises."""
    steps: list[Callable[[], list[Awaitable[Any]]]] = [
        lambda: [peer.client.leave() for peer in peers],
        lambda: [server.stop()],
    ]
    for step in steps:
        tasks = [asyncio.ensure_future(awaitable) for awaitable in step()]
        if not tasks:
            continue
        done, _ = await asyncio.wait(tasks, timeout=_CLEANUP_TIMEOUT)
        for task in done:
            if not task.cancelled():
                task.exception()  # a failed leave or stop is not a failed check
