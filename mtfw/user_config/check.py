"""The pre-flight check of the user files a command will read, before Hydra runs anything.

Each composition the command can make is checked: the command line's overrides, and for a
multirun each choice of a swept config group on its own (``encoder=mmoe,mine``: with ``mmoe`` and
with ``mine``). Code under ``hydra`` that a user file brings in is refused (``hydra_code``); a
user file that shadows a shipped one is announced, once.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence

from hydra import initialize_config_dir

from mtfw.user_config.folders import CONF_DIR, active
from mtfw.user_config.hydra_code import hydra_settings, refuse_user_code, shipped_entries
from mtfw.user_config.sources import announce, files_read


def override_sets(overrides: Sequence, groups: Collection[str]) -> list[list[str]]:
    """The compositions to check: the plain overrides, then one more per swept group choice."""
    base = [o.input_line for o in overrides if not o.is_sweep_override()]
    sets = [base]
    for o in overrides:
        if o.is_sweep_override() and o.key_or_group in groups:
            sets += [[*base, f"{o.key_or_group}={v}"] for v in o.sweep_string_iterator()]
    return sets


def check_user_files(overrides: Sequence, groups: Collection[str]) -> None:
    """Refuse code under ``hydra`` from user files; then announce the user files that shadow
    shipped ones. Nothing to do without user folders."""
    if not active():
        return
    sets, read = override_sets(overrides, groups), []
    shipped = shipped_entries(hydra_settings(sets[0]))  # before Hydra is initialised on the folders
    with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
        for overrides_set in sets:
            files = files_read(overrides_set)
            refuse_user_code(overrides_set, files, shipped)
            read += files
    announce(read)
