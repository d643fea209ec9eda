"""`python -m roomcall` runs the `roomcall` command."""

import sys

from roomcall.cli import main

sys.exit(main())
