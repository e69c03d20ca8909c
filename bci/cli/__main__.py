"""``python -m bci.cli``: the ``bci`` command."""

import sys

from bci.cli import main

sys.exit(main())
