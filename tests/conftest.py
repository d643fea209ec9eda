"""Shared test setup: headless Qt before anything imports it, and media on loopback only."""

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from roomcall.sdk.compat import restrict_host_addresses  # after the Qt setting

# Test traffic stays on this machine's loopback: aioice would otherwise gather (and send media
# over) the machine's own interface addresses.
restrict_host_addresses(["127.0.0.1"])
