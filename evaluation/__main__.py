"""``python -m evaluation QA_FILE [options]``: run a QA set through the assistant and write a report."""

import sys

from evaluation.command import main

if __name__ == "__main__":
    sys.exit(main())
