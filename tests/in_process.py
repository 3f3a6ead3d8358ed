"""``mtfw ARGS`` run inside the test process, its outcome shaped like a finished subprocess.

The exit status is what the process would exit with (``SystemExit``'s code; 0 when ``main``
returns); stdout and stderr are captured, logging included: the handlers a command adds (Hydra's
console handler, a resumed run's, the sweep's) are created while the streams are redirected, and
the root logger's handlers and level are put back afterwards. An exception escaping ``main`` is a
bug the test must see, so it propagates.
"""

from __future__ import annotations

import io
import logging
import os
import subprocess
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path

from mtfw.cli import main as cli_main

ENV = {"WANDB_MODE": "offline", "HYDRA_FULL_ERROR": "0"}


def _exit_code(err: SystemExit) -> int:
    if err.code is None:
        return 0
    return err.code if isinstance(err.code, int) else 1  # sys.exit("text") exits with 1


def cli_in_process(argv: list[str], cwd: Path) -> subprocess.CompletedProcess:
    out, err = io.StringIO(), io.StringIO()
    saved_env = {k: os.environ.get(k) for k in ENV}
    saved_cwd, root = Path.cwd(), logging.getLogger()
    saved_level, saved_handlers = root.level, list(root.handlers)
    os.environ.update(ENV)
    os.chdir(cwd)
    code = 0
    try:
        with redirect_stdout(out), redirect_stderr(err):
            try:
                cli_main(argv)
            except SystemExit as exit_:
                code = _exit_code(exit_)
    finally:
        os.chdir(saved_cwd)
        for key, value in saved_env.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        for handler in list(root.handlers):  # what the command added (Hydra's, a resume's ...)
            if handler not in saved_handlers:
                root.removeHandler(handler)
                handler.close()
        for handler in saved_handlers:  # what Hydra's logging config took away (pytest's)
            if handler not in root.handlers:
                root.addHandler(handler)
        root.setLevel(saved_level)
    return subprocess.CompletedProcess(["mtfw", *argv], code, out.getvalue(), err.getvalue())
