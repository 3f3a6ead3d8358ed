"""``mtfw train cv=K ...``: every fold of K-fold cross-validation in one Hydra multirun.

``cv=5`` stands for ``-m data.split.folds=5 'data.split.fold=range(5)'``: one run per test fold,
combined with any other multirun axis of the command line (``encoder=mmoe,single_task seed=0,1``
gives every encoder and seed on every fold). ``mtfw report`` then puts the folds of one setting
in one row (mean ± std over folds, paired tests paired by fold).
"""

from __future__ import annotations

from mtfw.errors import ConfigError

KEY = "cv="
MULTIRUN = ("-m", "--multirun")


def expand_cv(argv: list[str]) -> list[str]:
    """The command line with ``cv=K`` replaced by the fold multirun (unchanged without one)."""
    given = [a for a in argv if a.startswith(KEY)]
    if not given:
        return argv
    text = given[0][len(KEY) :]
    if len(given) > 1 or not text.isdigit() or int(text) < 2:
        raise ConfigError(
            f"{' '.join(given)}: cv takes one number of folds K >= 2 (cv=5 runs the five folds of "
            "5-fold cross-validation); to vary other settings, sweep them beside it "
            "(cv=5 encoder=mmoe,single_task)"
        )
    clash = [
        a for a in argv if a.lstrip("+~").startswith(("data.split.folds=", "data.split.fold="))
    ]
    if clash:
        raise ConfigError(
            f"cv={text} sets data.split.folds={text} and data.split.fold=range({text}) itself; "
            f"drop {clash[0]} (or drop cv= and set both keys)"
        )
    k = int(text)
    folds = [f"data.split.folds={k}", f"data.split.fold=range({k})"]
    rest = [a if a not in given else folds for a in argv]
    expanded = [x for a in rest for x in (a if isinstance(a, list) else [a])]
    return expanded if any(a in MULTIRUN for a in argv) else ["-m", *expanded]
