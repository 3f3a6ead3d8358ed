"""Reproducibility warnings: a run from a modified source tree, or on a different data file.

Warnings, not errors: the run is still worth having, but its ``git_sha`` alone no longer says
what code made it, or its metrics may differ from the record because the data did.
"""

from __future__ import annotations

import logging
import sys

log = logging.getLogger("mtfw")


def warn(message: str) -> None:
    """To the log (train.log and the console) and to stderr, where scripts look for it."""
    log.warning(message)
    print(f"warning: {message}", file=sys.stderr, flush=True)


def warn_if_dirty(env: dict, what: str = "this run") -> bool:
    """Warn when ``env`` (``record.environment()`` or a summary) says the tree was modified."""
    if not env.get("git_dirty"):
        return False
    warn(
        f"{what} is trained from a source tree with uncommitted changes: git_sha "
        f"{env.get('git_sha')} alone does not reproduce it (commit first for a clean record)"
    )
    return True


def warn_if_data_changed(original: dict, new: dict) -> bool:
    """Warn when two summaries record different data file checksums (``data/checksum``)."""
    before, after = original.get("data/checksum"), new.get("data/checksum")
    if before == after:
        return False
    warn(
        f"the data file differs from the one the original run used: data/checksum {before} -> "
        f"{after} (source {new.get('data/source', 'unknown')}); metrics may differ because of it"
    )
    return True
