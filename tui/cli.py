"""The `microgradtui` entry point."""

from __future__ import annotations

import sys


def main(argv: list[str] | None = None) -> int:
    print("microgradtui: the app is coming; the engine is ready (`from micrograd import Value`).")
    return 0


if __name__ == "__main__":
    sys.exit(main())
