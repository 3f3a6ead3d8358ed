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
  explain <run_dir>    which input fields drive each task ([split=val] [methods=..] [fields=..])
  init <dir>           a starter config folder for one's own CSV (--csv FILE --label COL ...)
  list [kind]          registered components with their parameters

Your own config folders (mtfw/conf/'s layout, searched first): --config-dir DIR (any command,
repeatable) or MTFW_CONFIG_PATH=DIR1:DIR2; the command line's come before the environment's.
"""
# The module whose main(argv) runs each command; each raises an MtfwError for a user's error.
COMMANDS = {
    "train": "mtfw.train",
    "sweep": "mtfw.sweep",
    "reproduce": "mtfw.reproduce",
    "report": "mtfw.report.command",
    "recommend": "mtfw.recommend",
    "explain": "mtfw.explain.command",
    "init": "mtfw.starter.command",
}
# `mtfw report` and `mtfw init` parse their options with argparse: their errors name them so.
PROGRAMS = {"report": "mtfw report", "init": "mtfw init"}
COMPOSING = ("train", "sweep")  # the commands that compose configs (the others read run dirs)


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
        names = [*COMMANDS, "list"]
        print(f"mtfw: unknown command '{command}'.{closest(command, names)} Commands: "
              f"{', '.join(names)} (mtfw --help says what each does)", file=sys.stderr)  # fmt: skip
        sys.exit(2)
    from mtfw.user_config.folders import UserFolders, resolve, searching, split_flags

    flag_dirs, rest = split_flags(rest)
    composing = command in COMPOSING and not any(a.startswith("resume=") for a in rest)
    if flag_dirs and not composing:
        print(f"mtfw {command}: --config-dir is not read: a run directory holds its config and "
              "copies of the user files it read (.mtfw/user_conf/)", file=sys.stderr)  # fmt: skip
    folders = resolve(flag_dirs) if composing else UserFolders()
    with searching(folders):
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
