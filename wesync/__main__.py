from __future__ import annotations

from wesync.cli import main

if __name__ == "__main__":
    main()
