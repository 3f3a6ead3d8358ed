"""``mtfw report DIR --protocol NAME``: a published experiment's table, laid out as the paper does.

A protocol reads the same run table as the ordinary report (``collect_runs``) and writes Markdown:
``census_groups`` (the MMoE paper's census tables, §5.2) and ``mmoe_synthetic`` (its synthetic
experiment, §5.1, with the published claim checked on paired differences).
"""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd

from mtfw.report.census_protocol import census_groups
from mtfw.report.collect import ReportError
from mtfw.report.synthetic_protocol import mmoe_synthetic

PROTOCOLS: dict[str, Callable[[pd.DataFrame], str]] = {
    "census_groups": census_groups,
    "mmoe_synthetic": mmoe_synthetic,
}


def protocol_report(table: pd.DataFrame, name: str) -> str:
    if name not in PROTOCOLS:
        raise ReportError(f"--protocol {name}: no such protocol; protocols: {', '.join(PROTOCOLS)}")
    return PROTOCOLS[name](table)
