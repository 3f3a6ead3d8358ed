"""The public tables behind the "Your own data" walkthrough come out of the hash-checked wheel."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from public_tables_support import public_csv


def test_doctor_visits_is_written_as_a_csv_with_its_string_and_count_columns(
    tmp_path: Path,
) -> None:
    frame = pd.read_csv(public_csv("AER/DoctorVisits", tmp_path / "dv.csv"))
    assert frame.shape == (5190, 12) and "rownames" not in frame
    assert set(frame["private"]) == {"yes", "no"}
    assert frame["visits"].between(0, 9).all() and frame["visits"].mean() < 1
