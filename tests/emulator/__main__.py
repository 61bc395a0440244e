"""Entry point: python3 tests/emulator --port 0 --state DIR --endpoints FILE [...]"""
import os
import sys

if __package__ in (None, ""):
    # run as "python3 tests/emulator": import the package from its parent directory
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    from emulator.server import main
else:
    from .server import main

if __name__ == "__main__":
    sys.exit(main())
