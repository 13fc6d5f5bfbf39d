"""The command line: ``compare build``, ``compare add``, ``compare metrics``, ``compare evaluate`` …

Input: arguments. Output: the command's work, progress on stdout, warnings and errors on
stderr. A problem with the user's input prints one paragraph (file, problem, fix) and exits
with status 2; there is never a traceback unless COMPARE_DEBUG=1.
"""

from __future__ import annotations

import argparse
import os
import sys
import textwrap
import traceback

from .config import Paths
from .errors import CompareError


def _cmd_build(args: argparse.Namespace) -> int:
    from .pipeline import build

    build(Paths(args.root))
    return 0


COMMANDS = {
    "build": (_cmd_build, "build every processed table from data/raw/ into data/processed/"),
}


def make_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="compare",
        description="Line up the quantitative targets and the text of Chinese cities' vocational-education plans.",
        epilog="Run `compare COMMAND --help` for a command's options. The Makefile calls these commands; "
               "they never need the Makefile.",
    )
    parser.add_argument("--root", help="project folder (default: the checkout this package is installed from)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    for name, (func, help_text) in COMMANDS.items():
        p = sub.add_parser(name, help=help_text, description=help_text)
        p.set_defaults(func=func)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = make_parser()
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except CompareError as e:
        print("\n".join(textwrap.wrap(f"error: {e}", width=100, break_long_words=False, break_on_hyphens=False)),
              file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted; outputs are as they were before this run", file=sys.stderr)
        return 130
    except Exception as e:  # a bug in compare, not in the user's input
        if os.environ.get("COMPARE_DEBUG"):
            traceback.print_exc()
        print(f"compare: internal error ({type(e).__name__}: {e}). This is a bug in compare, not in your input; "
              "rerun with COMPARE_DEBUG=1 to see the traceback and report it.", file=sys.stderr)
        return 1
