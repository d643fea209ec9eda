"""Entry script of the frozen roomcall executable: the same `main` as `python -m roomcall`."""

import multiprocessing
import sys

from roomcall.cli import main

if __name__ == "__main__":
    # A no-op unless something starts a process with the spawn method, in which case the
    # frozen executable must act as the child interpreter instead of running roomcall again.
    multiprocessing.freeze_support()
    sys.exit(main())
