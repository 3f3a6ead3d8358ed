"""``mtfw <command> [overrides]``: the command line (DESIGN §7)."""

from __future__ import annotations

import importlib
import os
import signal
import sys

from mtfw import registry
from mtfw.errors import exit_on_error
from mtfw.run_guard import Terminated
from mtfw.settings import closest

USAGE = """usage: mtfw <command> [args]

commands:
  train [overrides]    train one run (Hydra overrides, -m for multirun, --cfg job to print config)
  sweep sweep=<name>   an Optuna study declared in conf/sweep/<name>.yaml ([overrides])
  reproduce <run_dir>  re-run a finished run from its saved config and compare every metric
  report <dir>...      runs below the dirs as a table: mean ± std over seeds, MTL gain, plots
  recommend <run_dir>  top-k items per user from a finished run ([users=..] [k=10] [out=F])
  init <dir>           a starter config folder for one's own CSV (--csv FILE --label COL ...)
  list [kind]          registered components with their parameters
"""
# The module whose main(argv) runs each command; each raises an MtfwError for a user's error.
COMMANDS = {
    "train": "mtfw.train",
    "sweep": "mtfw.sweep",
    "reproduce": "mtfw.reproduce",
    "report": "mtfw.report.command",
    "recommend": "mtfw.recommend",
    "init": "mtfw.starter.command",
}
# `mtfw report` and `mtfw init` parse their options with argparse: their errors name them so.
PROGRAMS = {"report": "mtfw report", "init": "mtfw init"}


def list_components(kinds: list[str]) -> None:
    """Print every registered component of the given kinds (all kinds when none given)."""
    for kind in kinds or list(registry.KINDS):
        print(f"{kind}:")
        for name in registry.names(kind):
            doc, params = registry.describe(kind, name)
            print(f"  {name + ' ':<16}{doc}")  # a long name keeps a space before its doc
            if params:
                print(f"  {'':<16}  {params}")


def run_command(command: str, rest: list[str]) -> None:
    """Run one subcommand, importing only the module it needs."""
    if command == "list":
        list_components(rest)
        return
    if command not in COMMANDS:
        print(f"mtfw: unknown command '{command}'.{closest(command, [*COMMANDS, 'list'])}"
              f"\n{USAGE}", file=sys.stderr)  # fmt: skip
        sys.exit(2)
    importlib.import_module(COMMANDS[command]).main(rest)


def main(argv: list[str] | None = None) -> None:
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        if not argv or argv[0] in ("-h", "--help", "help"):
            print(USAGE)
            return
        command, rest = argv[0], argv[1:]
        with exit_on_error(PROGRAMS.get(command, "mtfw")):
            run_command(command, rest)
    except Terminated:  # recorded as interrupted and logged; the shell's code for SIGTERM
        sys.exit(128 + signal.SIGTERM)
    except BrokenPipeError:  # `mtfw list | head`: the reader left; not an error of ours
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        sys.exit(0)


if __name__ == "__main__":
    main()
