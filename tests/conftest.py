"""Shared test setup: headless Qt before anything imports it, and media on loopback only."""

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from collections.abc import Iterator
from datetime import timedelta

import pytest
from hypothesis import HealthCheck, settings

from roomcall.sdk.compat import restrict_host_addresses  # after the Qt setting
from tests.waiting import TIME_FACTOR

# Test traffic stays on this machine's loopback: aioice would otherwise gather (and send media
# over) the machine's own interface addresses.
restrict_host_addresses(["127.0.0.1"])


if TIME_FACTOR != 1:
    # Hypothesis times each example (200 ms deadline) and its input generation; on a machine
    # slow enough to need the factor, both limits stretch like every other wait.
    settings.register_profile(
        "roomcall-time-factor", deadline=timedelta(milliseconds=200 * TIME_FACTOR),
        suppress_health_check=[HealthCheck.too_slow])
    settings.load_profile("roomcall-time-factor")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """pytest-timeout's limit on a whole test scales with ROOMCALL_TEST_TIME_FACTOR too."""
    for item in items:
        marker = item.get_closest_marker("timeout")
        limit = float(marker.args[0]) if marker and marker.args else float(
            config.getini("timeout") or 0)
        if limit and TIME_FACTOR != 1:
            item.add_marker(pytest.mark.timeout(limit * TIME_FACTOR))


@pytest.fixture
def display(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A private Xvfb (1280x720) as this process's X11 display, the one screen capture uses
    (Qt itself stays offscreen); skips without Xvfb."""
    from tests.media.xvfb import XvfbUnavailable, private_xvfb

    try:
        with private_xvfb(1280, 720) as name:
            monkeypatch.setenv("DISPLAY", name)
            monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
            monkeypatch.setenv("XDG_SESSION_TYPE", "x11")
            yield name
    except XvfbUnavailable as exc:
        pytest.skip(str(exc))
