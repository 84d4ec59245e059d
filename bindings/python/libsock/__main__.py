"""``python -m libsock``: the same as the ``libsock`` command."""

import sys

from libsock.cli import main

if __name__ == "__main__":
    sys.exit(main())
