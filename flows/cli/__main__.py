"""`python -m flows.cli`: the same as the `counterclips` command."""

import sys

from flows.cli import main

sys.exit(main())
