"""The pre-join screen and what the app remembers between launches, through the widgets."""

from __future__ import annotations

import plistlib
from pathlib import Path

from roomcall.media.pattern import identity_code
from roomcall.ui import i18n

from .conftest import Windows, settings_file, until
from .flows import host_with_room_link, join_by_link, open_link
from .test_call import pattern_of_image

REPO = Path(__file__).resolve().parents[2]


def test_prejoin_previews_measures_and_plays_a_tone(windows: Windows) -> None:
    """The pre-join screen shows the camera (the synthetic pattern of the typed name), moves
    the level meter with the microphone's tone, plays a test tone, and closes the devices
    before joining."""

    async def scenario() -> None:
        _host, link = await host_with_room_link(windows)
        guest = windows.new("Bob")
        await open_link(guest, link)
        screen = guest.prejoin
        assert screen.name_edit.text() == "Bob"
        await until(lambda: screen.frames_shown > 3, 10, "preview frames")
        image = screen.current_image()
        assert image is not None and pattern_of_image(image) == identity_code("Bob")
        await until(lambda: screen.meter.value() > 50, 10, "the level meter")
        screen.tone_button.click()
        await until(lambda: not screen.tone_playing and screen.tone_status.text(), 10,
                    "the tone played, or why it could not")
        status = screen.tone_status.text()
        assert status.startswith(("Did you hear it?", "No sound output: ")), status
        assert screen.tone_button.isEnabled()
        for picker in screen.pickers.values():
            assert picker.count() >= 1 and picker.currentText()  # a name, or "None found"
        screen.join_button.click()
        await until(lambda: guest.session is not None and guest.session.client.user_id,
                    what="joined")
        assert not screen.previewing

    windows.run(scenario)


def test_name_language_and_geometry_are_remembered(windows: Windows, tmp_path: Path) -> None:
    """A second launch with the same settings file starts with the name, language and window
    geometry of the first; a remembered link token brings the person back as the same
    member."""

    async def scenario() -> None:
        _host, link = await host_with_room_link(windows)
        shared = tmp_path / "shared.ini"
        first = windows.new("Login", settings=settings_file(shared))
        assert await join_by_link(first, link, "Bobby")
        user_id = first.session.client.user_id  # type: ignore[union-attr]
        first.set_language("zh_CN")
        first.resize(760, 560)  # within the offscreen screen (800x600)
        first.panel.leave_button.click()
        await until(lambda: first.session is None, what="left")
        first.close_now()
        await first.wait_closed()

        second = windows.new("Login", settings=settings_file(shared))
        assert second.form.name_edit.text() == "Bobby"
        assert second.settings.language == "zh_CN"
        assert (second.width(), second.height()) == (760, 560)
        i18n.install_language("en")
        assert await join_by_link(second, link)  # same link: the same member comes back
        assert second.prejoin.display_name == "Bobby"
        assert second.session.client.user_id == user_id  # type: ignore[union-attr]

    try:
        windows.run(scenario)
    finally:
        i18n.install_language("en")


def test_scheme_registration_files(tmp_path: Path) -> None:
    """The .desktop file opens roomcall:// links with --join; the macOS bundle declares the
    scheme; --install-desktop-entry writes the same file for the user."""
    from roomcall.ui.desktop_entry import desktop_entry, install_desktop_entry

    shipped = (REPO / "packaging" / "roomcall.desktop").read_text()
    assert shipped == desktop_entry("roomcall")
    assert "MimeType=x-scheme-handler/roomcall;" in shipped
    assert "Exec=roomcall --join %u" in shipped
    with (REPO / "packaging" / "Info.plist").open("rb") as plist:
        types = plistlib.load(plist)["CFBundleURLTypes"]
    assert ["roomcall"] in [t["CFBundleURLSchemes"] for t in types]
    target = install_desktop_entry(tmp_path / "applications", "/opt/rc", register=False)
    assert target.read_text() == desktop_entry("/opt/rc")


def test_device_pickers_show_what_portaudio_names() -> None:
    """A Linux PortAudio table (ALSA's sound card, its PulseAudio and default plugins) reads
    as the card's name and readable plugin names, each with its host API, default first."""
    from roomcall.media.devices import audio_endpoints
    from roomcall.ui.device_names import device_choices

    table = [
        {"index": 0, "name": "HDA Intel PCH: ALC3246 Analog (hw:0,0)", "hostapi": 0,
         "max_input_channels": 2, "max_output_channels": 2, "default_samplerate": 44100.0},
        {"index": 1, "name": "pulse", "hostapi": 0, "max_input_channels": 32,
         "max_output_channels": 32, "default_samplerate": 44100.0},
        {"index": 2, "name": "default", "hostapi": 0, "max_input_channels": 32,
         "max_output_channels": 32, "default_samplerate": 44100.0},
    ]
    apis = [{"name": "ALSA", "default_input_device": 2, "default_output_device": 2}]
    speakers = [e.info for e in audio_endpoints("speaker", table, apis, default_hostapi=0)]
    assert [label for _id, label in device_choices(speakers)] == [
        "System default (ALSA)",
        "HDA Intel PCH: ALC3246 Analog (hw:0,0) (ALSA)",
        "PulseAudio sound server (ALSA)",
    ]
