"""Optuna sweeps declared in ``conf/sweep/`` (DESIGN §9): ``mtfw sweep sweep=<name> [overrides]``.

Our own small driver on current Optuna (Hydra's Optuna sweeper plugin pins Optuna below 3): the
plugin's ``params`` grammar plus conditional parameters (``space``, ``search``), objectives from
``summary.json`` (``objectives``), a study in a journal file or any database (``storage``), local
worker processes (``worker``), one normal run directory per trial (``trial``), and the outputs
(``outputs``, ``plots``).
"""

from __future__ import annotations

import logging
import sys

from mtfw import distributed
from mtfw.errors import ConfigError


def main(argv: list[str]) -> None:
    """``mtfw sweep ...``: exit status 130 when interrupted; a user's error raises (the CLI
    prints it and exits 2)."""
    from mtfw.sweep.command import USAGE, parse_request
    from mtfw.sweep.driver import run_sweep
    from mtfw.sweep.worker import setup_logging

    if not argv or argv[0] in ("-h", "--help", "help"):
        print(USAGE)
        return
    if distributed.launched():
        raise ConfigError(
            "mtfw sweep under torchrun would ask the study for a trial on every rank: run "
            "`mtfw sweep` itself in one process; for distributed trials give it "
            "sweep.trial_launcher=torchrun sweep.nproc_per_node=N (each trial one torchrun of N "
            "processes). Trials run side by side with sweep.n_jobs, or more `mtfw sweep` "
            "workers on one sweep.dir or sweep.storage database (README 'Scaling up')"
        )
    handler = setup_logging()
    try:
        run_sweep(parse_request(argv))
    except KeyboardInterrupt:
        print("mtfw: sweep interrupted", file=sys.stderr)
        sys.exit(130)
    finally:
        logging.getLogger().removeHandler(handler)
