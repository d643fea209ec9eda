"""`python -m app` runs the `roomcall` command."""

import sys

from app.cli import main

sys.exit(main())
