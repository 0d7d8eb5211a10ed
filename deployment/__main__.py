"""Entry point: `python -m deployment --help`."""

import sys

from deployment.cli import main

sys.exit(main())
