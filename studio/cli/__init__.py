"""``python -m studio``: the command line.

Each command lives in ``studio/cli/cmd_<name>.py`` and defines ``register(subparsers)``,
which adds its parser and sets ``func=run`` where ``run(args) -> int``. Commands are found
by module name, so adding one needs no edit here.

Every user-caused failure is a :class:`StudioError`: it is printed as one line on stderr and
the exit code is 2. Argument errors are also one line with exit code 2.
"""

from __future__ import annotations

import argparse
import importlib
import pkgutil
import sys
from typing import Optional, Sequence

from studio.errors import StudioError


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # one line, exit 2, no usage dump
        sys.stderr.write(f"error: {message}\n")
        raise SystemExit(2)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="python -m studio", description="Soundscape Studio: images to layered soundscapes.")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    package = importlib.import_module("studio.cli")
    for info in sorted(pkgutil.iter_modules(package.__path__), key=lambda m: m.name):
        if info.name.startswith("cmd_"):
            importlib.import_module(f"studio.cli.{info.name}").register(subparsers)
    return parser


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        return int(args.func(args) or 0)
    except StudioError as exc:
        sys.stderr.write(f"error: {exc}\n")
        return exc.exit_code
    except KeyboardInterrupt:
        sys.stderr.write("error: interrupted; nothing was written under the final names\n")
        return 130
