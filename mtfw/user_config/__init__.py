"""The user's own config folders: the same layout as ``mtfw/conf/``, searched before it.

``folders``: where they come from (``--config-dir DIR``, ``$MTFW_CONFIG_PATH``) and Hydra's search
path with them first; ``sources``: which user files a composition read, and the one line that says
a user file shadows a shipped one; ``run_record``: the copies a run keeps (``.mtfw/``);
``hydra_code``: code under ``hydra.`` that user files may not bring in without an opt-in.
"""
