"""``mtfw <command> [overrides]``: the command line (DESIGN §7)."""

from __future__ import annotations

import sys

from mtfw import registry
from mtfw.errors import MtfwError

USAGE = """usage: mtfw <command> [args]

commands:
  train [overrides]    train one run (Hydra overrides, -m for multirun, --cfg job to print config)
  sweep sweep=<name>   an Optuna study declared in conf/sweep/<name>.yaml ([overrides])
  reproduce <run_dir>  re-run a finished run from its saved config and compare every metric
  report <dir>...      runs below the dirs as a table: mean ± std over seeds, MTL gain, plots
  recommend <run_dir>  top-k items per user from a finished run ([users=..] [k=10] [out=F])
  list [kind]          registered components with their parameters
"""


def list_components(kinds: list[str]) -> None:
    """Print every registered component of the given kinds (all kinds when none given)."""
    for kind in kinds or list(registry.KINDS):
        print(f"{kind}:")
        for name in registry.names(kind):
            doc, params = registry.describe(kind, name)
            print(f"  {name:<16}{doc}")
            if params:
                print(f"  {'':<16}  {params}")


def main(argv: list[str] | None = None) -> None:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] in ("-h", "--help", "help"):
        print(USAGE)
        return
    command, rest = argv[0], argv[1:]
    if command == "train":
        from mtfw.train import main as train_main

        train_main(rest)
        return
    if command == "reproduce":
        from mtfw.reproduce import main as reproduce_main

        reproduce_main(rest)
        return
    if command == "report":
        from mtfw.report.command import main as report_main

        report_main(rest)
        return
    if command == "recommend":
        from mtfw.recsys.recommend import main as recommend_main

        recommend_main(rest)
        return
    if command == "sweep":
        from mtfw.sweep import main as sweep_main

        sweep_main(rest)
        return
    try:
        if command == "list":
            list_components(rest)
            return
    except MtfwError as err:
        print(f"mtfw: error: {err}", file=sys.stderr)
        sys.exit(2)
    commands = ["train", "sweep", "reproduce", "report", "recommend", "list"]
    print(f"mtfw: unknown command '{command}'.{registry.closest(command, commands)}\n{USAGE}",
          file=sys.stderr)  # fmt: skip
    sys.exit(2)


if __name__ == "__main__":
    main()
