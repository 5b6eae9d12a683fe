"""`python -m bot.cli`: the same as the `accessbot` console script."""

import sys

from bot.cli.entry import main

if __name__ == "__main__":
    sys.exit(main())
