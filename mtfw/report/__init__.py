"""``mtfw report``: every run below some directories as one table for a paper draft.

``collect`` finds and loads runs, ``group`` forms rows of runs differing only by seed, ``mtl``
computes MTL gain and Delta_m against single-task runs, ``significance`` the paired t-tests,
``build`` puts them together, ``tables`` renders Markdown, LaTeX or CSV, ``plots`` draws PNGs.
"""

from mtfw.report.build import Report, build_report, select_metrics
from mtfw.report.collect import ReportError, collect_runs

__all__ = ["Report", "ReportError", "build_report", "collect_runs", "select_metrics"]
