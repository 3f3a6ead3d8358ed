"""What an in-process mtfw command changes in the process, put back after each battery case:
cwd, argv, environment, logging handlers (Hydra configures the root logger per run), Hydra's
global state, torch's threads and determinism, warning filters."""

from __future__ import annotations

import logging
import os
import sys
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


def logging_state() -> dict[str, tuple]:
    """Handlers, level, propagation and disabled flag of the root and every named logger."""
    state = {}
    for name in ["", *logging.root.manager.loggerDict]:
        lg = logging.getLogger(name)
        state[name] = (lg.handlers[:], lg.level, lg.propagate, lg.disabled)
    return state


def restore_logging(state: dict[str, tuple]) -> None:
    """Back to ``state``; handlers added since are closed (a FileHandler into a case's dir)."""
    for name in ["", *logging.root.manager.loggerDict]:
        lg = logging.getLogger(name)
        handlers, level, propagate, disabled = state.get(name, ([], logging.NOTSET, True, False))
        for handler in lg.handlers:
            if handler not in handlers:
                handler.close()
        lg.handlers[:] = handlers
        lg.setLevel(level)
        lg.propagate, lg.disabled = propagate, disabled


@contextmanager
def isolated(case_dir: Path, env: dict[str, str]) -> Iterator[None]:
    """Run in ``case_dir`` with ``env``; afterwards the process is as it was before."""
    import torch
    from hydra.core.global_hydra import GlobalHydra

    cwd, argv, environ, logs = os.getcwd(), sys.argv[:], dict(os.environ), logging_state()
    threads, deterministic = torch.get_num_threads(), torch.are_deterministic_algorithms_enabled()
    os.chdir(case_dir)
    os.environ.update(env)
    try:
        with warnings.catch_warnings():
            yield
    finally:
        os.chdir(cwd)
        sys.argv = argv
        os.environ.clear()
        os.environ.update(environ)
        restore_logging(logs)
        GlobalHydra.instance().clear()
        torch.set_num_threads(threads)
        torch.use_deterministic_algorithms(deterministic)
