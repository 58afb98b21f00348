"""`python -m edgeemo` runs the same command line as `edgeemo`."""

from __future__ import annotations

from edgeemo.cli import main

if __name__ == "__main__":
    main()
