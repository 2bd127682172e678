"""Entry point: ``python main.py`` (what ``make run`` does)."""

import sys

from storeapp.__main__ import main

if __name__ == "__main__":
    sys.exit(main())
