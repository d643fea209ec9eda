"""Package data of roomcall: the application icons (``icons/``) and the compiled Qt
translations (``i18n/*.qm``). Read them through :func:`roomcall.ui.i18n.resources_dir`."""
