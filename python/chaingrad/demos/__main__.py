"""Lists the demos: `python -m chaingrad.demos` prints each one's name and what it shows."""

from __future__ import annotations

import argparse
from typing import Optional, Sequence

from chaingrad.demos import summaries


def main(argv: Optional[Sequence[str]] = None) -> None:
    """Prints one line per demo and how to run one."""
    parser = argparse.ArgumentParser(prog="python -m chaingrad.demos", description=__doc__.splitlines()[0])
    parser.parse_args(argv)
    demos = summaries()
    width = max(map(len, demos))
    print("chaingrad's demos; run one with: python -m chaingrad.demos.NAME  (--help for its options)\n")
    for name, summary in demos.items():
        print(f"  {name:<{width}}  {summary}")


if __name__ == "__main__":
    main()
