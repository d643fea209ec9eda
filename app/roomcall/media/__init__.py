"""Media sources and sinks: devices, synthetic sources, frame drains and audio playout."""
