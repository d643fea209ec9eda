"""The rules of what goes on stage and who speaks, with time passed in (no Qt, no server)."""

from __future__ import annotations

from roomcall.ui.speaking import SPEAKER_LEAD, SPEAKING_HOLD, SPEAKING_LEVEL, Speaking
from roomcall.ui.spotlight import Spotlight, ViewMode

TILES = ["me", "bob", "eve"]


def test_pin_beats_a_share_and_a_share_beats_the_speaker() -> None:
    """Priority: the pinned tile, then the newest remote share, then the active speaker."""
    spot = Spotlight()
    spot.choose(ViewMode.SPEAKER)
    spot.update(tiles=TILES, screens=[], speaker="eve")
    assert spot.stage == "eve"
    spot.update(tiles=[*TILES, "bob/t1"], screens=["bob/t1"], speaker="eve")
    assert (spot.mode, spot.stage) == (ViewMode.PRESENTATION, "bob/t1")
    spot.update(tiles=[*TILES, "bob/t1", "eve/t2"], screens=["bob/t1", "eve/t2"],
                speaker="eve")
    assert spot.stage == "eve/t2"  # the newest share
    assert spot.pin("me") and spot.stage == "me"
    assert spot.toggle_pin("me") and spot.stage == "eve/t2"


def test_back_to_grid_holds_while_the_share_goes_on_and_the_view_returns_after() -> None:
    """The person may leave the presentation and come back to it; once the share ends, the
    last view they picked themselves comes back."""
    spot = Spotlight()
    spot.choose(ViewMode.SPEAKER)
    spot.update(tiles=[*TILES, "bob/t1"], screens=["bob/t1"], speaker="bob")
    assert spot.mode is ViewMode.PRESENTATION
    spot.update(tiles=TILES, screens=[], speaker="bob")
    assert (spot.mode, spot.stage) == (ViewMode.SPEAKER, "bob")  # untouched: as before
    spot.update(tiles=[*TILES, "bob/t1"], screens=["bob/t1"], speaker="bob")
    spot.choose(ViewMode.GRID)
    spot.update(tiles=[*TILES, "bob/t1"], screens=["bob/t1"], speaker="bob")
    assert (spot.mode, spot.stage) == (ViewMode.GRID, None)  # a report changes nothing
    spot.choose(ViewMode.PRESENTATION)
    assert spot.stage == "bob/t1"
    spot.update(tiles=TILES, screens=[], speaker="bob")
    assert (spot.mode, spot.stage) == (ViewMode.GRID, None)  # picked during the share
    assert not spot.choose(ViewMode.PRESENTATION) and spot.mode is ViewMode.GRID


def test_a_pinned_tile_that_goes_away_unpins() -> None:
    """A pin on a tile that left is dropped; a key no tile has cannot be pinned."""
    spot = Spotlight()
    spot.update(tiles=TILES, screens=[], speaker=None)
    assert not spot.pin("zoe") and spot.pinned is None
    spot.pin("bob")
    spot.update(tiles=["me", "eve"], screens=[], speaker=None)
    assert spot.pinned is None and spot.stage is None


def test_speaking_holds_between_words_and_ends_after_the_hold() -> None:
    """A member reads as speaking from a loud report until the hold after the last one."""
    talk = Speaking()
    talk.feed({"me": 0.0, "bob": SPEAKING_LEVEL + 0.1}, now=0.0, local="me")
    assert talk.speaking == {"bob"}
    talk.feed({"me": 0.0, "bob": 0.05}, now=SPEAKING_HOLD - 0.1, local="me")
    assert talk.speaking == {"bob"}  # a pause between words
    talk.feed({"me": 0.0, "bob": 0.05}, now=SPEAKING_HOLD + 0.1, local="me")
    assert talk.speaking == frozenset()
    talk.feed({"me": 0.7, "bob": 0.0}, now=2.0, local="me")
    assert talk.speaking == {"me"} and talk.active_speaker == "bob"  # never the local user


def test_active_speaker_changes_only_after_a_lead() -> None:
    """Two members trading short bursts do not swap the stage; one who keeps the lead for
    the lead time takes it."""
    talk = Speaking()
    talk.feed({"bob": 0.6, "eve": 0.0}, now=0.0)
    assert talk.active_speaker == "bob"
    now = 0.0
    for step in range(8):  # eve and bob alternate the loudest every 0.4 s
        now += 0.4
        loud, quiet = ("eve", "bob") if step % 2 == 0 else ("bob", "eve")
        talk.feed({loud: 0.8, quiet: 0.0}, now=now)
        assert talk.active_speaker == "bob"
    start = now
    while now - start < SPEAKER_LEAD + 0.3:
        now += 0.2
        talk.feed({"eve": 0.7, "bob": 0.0}, now=now)
    assert talk.active_speaker == "eve"
    talk.forget(["eve"])
    assert talk.active_speaker is None and "eve" not in talk.speaking
