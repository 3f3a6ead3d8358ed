"""UCI Census-Income (KDD), the benchmark of the MMoE paper (Ma et al., KDD 2018, §5.2).

Labels, each in a column of its own beside the raw column it is derived from: ``income``
(income_50k == "50000+."), ``marital`` (marital_stat == "Never married") and ``college`` (the
``education`` column says a college degree or higher; task ``education``). Group 1 of the paper is
income + marital, group 2 is education + marital. By default every column is an input except the
sources of the labels the run's tasks read (prepare drops them), so group 1 keeps ``education`` and
group 2 keeps ``income_50k``; an explicit ``features`` list naming a selected task's source is
refused by the leakage guard. ``instance_weight`` (a sampling weight) is never a feature. Data: UCI
ML Repository, CC BY 4.0.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd

from mtfw.data.flat import TableDataset
from mtfw.data.locate import locate, sha256sum
from mtfw.data.reading import reading
from mtfw.data.table import Table
from mtfw.errors import DataFileError
from mtfw.registry import ConfigError, closest, register

COLUMNS = [
    "age",
    "class_worker",
    "det_ind_code",
    "det_occ_code",
    "education",
    "wage_per_hour",
    "hs_college",
    "marital_stat",
    "major_ind_code",
    "major_occ_code",
    "race",
    "hisp_origin",
    "sex",
    "union_member",
    "unemp_reason",
    "full_or_part_emp",
    "capital_gains",
    "capital_losses",
    "stock_dividends",
    "tax_filer_stat",
    "region_prev_res",
    "state_prev_res",
    "det_hh_fam_stat",
    "det_hh_summ",
    "instance_weight",
    "mig_chg_msa",
    "mig_chg_reg",
    "mig_move_reg",
    "mig_same",
    "mig_prev_sunbelt",
    "num_emp",
    "fam_under_18",
    "country_father",
    "country_mother",
    "country_self",
    "citizenship",
    "own_or_self",
    "vet_question",
    "vet_benefits",
    "weeks_worked",
    "year",
    "income_50k",
]
NUMERIC = [
    "age", "wage_per_hour", "capital_gains", "capital_losses", "stock_dividends", "num_emp",
    "weeks_worked",
]  # fmt: skip
HEAVY_TAILED = ["wage_per_hour", "capital_gains", "capital_losses", "stock_dividends"]
NOT_FEATURES = ["instance_weight"]
COLLEGE = ("Bachelors degree", "Masters degree", "Doctorate degree", "Prof school degree")
LABEL_SOURCES = {
    "income": ["income_50k"],
    "marital": ["marital_stat"],
    "college": ["education"],
}
FILENAME = "census-income.test.gz"
URL = "https://archive.ics.uci.edu/ml/machine-learning-databases/census-income-mld/" + FILENAME
SHA256 = "5ac4cacd3ca9f1ecb10de1a0a41e4ac68fdc419e3fec190f5c0c6cc03b2ea659"
PACKAGED = Path(__file__).parent / "files" / FILENAME


@lru_cache(maxsize=2)
def _read(file: str, mtime_ns: int, size: int) -> pd.DataFrame:
    """Parse the file and derive the labels; cached per process (sweeps compose many runs).

    Callers must not modify the frame: splitting and preprocessing only read it."""
    with reading(file):
        frame = pd.read_csv(
            file, header=None, names=COLUMNS, skipinitialspace=True,
            dtype={c: "float64" if c in NUMERIC else "str" for c in COLUMNS},
            keep_default_na=False, na_values=["?"],
        )  # fmt: skip
    if frame.empty:  # with column names given, pandas reads an empty file as 0 rows
        raise DataFileError(f"data file {file} has no rows (an empty or cut-off census file)")
    frame["income"] = (frame["income_50k"].str.strip() == "50000+.").astype(np.float32)
    frame["marital"] = (frame["marital_stat"] == "Never married").astype(np.float32)
    frame["college"] = frame["education"].str.startswith(COLLEGE).astype(np.float32)
    return frame


@register("data", "census")
class Census(TableDataset):
    """UCI Census-Income (KDD): income / marital / education, the MMoE paper's benchmark."""

    def __init__(
        self,
        path: str | None = None,
        root: str | None = None,
        download: bool = True,
        url: str = URL,
        features: list[str] | None = None,
        log1p: bool = True,
        split: dict | None = None,
    ):
        super().__init__(split)
        self.path, self.root, self.download, self.url = path, root, download, url
        self.features, self.log1p = features, log1p

    def load(self) -> Table:
        file = locate(
            FILENAME, path=self.path, root=self.root, packaged=PACKAGED, url=self.url,
            sha256=SHA256, allow_download=self.download,
            how_to_get=f"Download {URL} (sha256 {SHA256[:12]}...) into $MTFW_DATA, or set "
            "data.path=/path/to/census-income.test.gz.",
        )  # fmt: skip
        stat = file.stat()
        frame = _read(str(file), stat.st_mtime_ns, stat.st_size)
        allowed = [c for c in COLUMNS if c not in NOT_FEATURES]
        features = allowed if self.features is None else self._check_features()
        return Table(
            frame=frame,
            categorical=[c for c in features if c not in NUMERIC],
            numeric=[c for c in features if c in NUMERIC],
            labels=list(LABEL_SOURCES),
            label_sources=LABEL_SOURCES,
            checksum=sha256sum(file),
            source=str(file),
            log1p=HEAVY_TAILED if self.log1p else [],
            default_inputs=self.features is None,
        )

    def _check_features(self) -> list[str]:
        for col in self.features:
            if col not in COLUMNS:
                raise ConfigError(
                    f"data.features: census has no column '{col}'.{closest(col, COLUMNS)}"
                )
            if col in NOT_FEATURES:
                raise ConfigError(f"data.features: '{col}' is a sampling weight, not a feature")
        return list(self.features)  # selected tasks' sources: refused by the guard in prepare
