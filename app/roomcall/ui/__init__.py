"""The desktop app: the only part of roomcall that imports Qt widgets.

``main.run_app`` opens the window; SDK events reach widgets through ``bridge.ClientBridge``.
"""
