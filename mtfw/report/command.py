"""``mtfw report <dir> [<dir> ...]``: one table of every run below some directories.

Reads only run directories (the local record is the source of truth), so it works on single runs,
multiruns, sweeps and copies of them alike. Exit status 0, or 2 with a message on bad input.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from mtfw.report.build import build_report, select_metrics
from mtfw.report.collect import ReportError, collect_runs
from mtfw.report.group import default_by, resolve_by
from mtfw.report.tables import FORMATS, render

EXAMPLES = """examples:
  mtfw report outputs/multiruns/2026-11-29/21-50-31.6 --by encoder,weighting
  mtfw report outputs/sweeps/tw --format latex --out paper/table.tex
  mtfw report runs/ --metrics 'test/*/auc,test/*/logloss' --baseline single_task/static

Rows: runs that differ only by seed and, under cross-validation, by test fold (by default the
config keys that vary across the runs); p-values pair runs by seed and fold.
Plots (PNG) go to --plots DIR, or to plots/ beside --out; none when printing to the terminal
without --plots."""


class Parser(argparse.ArgumentParser):
    def error(self, message: str):  # argparse exits 2 as well; keep the message style of mtfw
        raise ReportError(f"{message}\n{self.format_usage().rstrip()}")


def parser() -> argparse.ArgumentParser:
    p = Parser(prog="mtfw report", epilog=EXAMPLES,
               formatter_class=argparse.RawDescriptionHelpFormatter,
               description="Collect runs into a table: mean ± std over seeds, best run, "
                           "MTL gain and Δm against single_task runs, paired t-tests, "
                           "plots.")  # fmt: skip
    p.add_argument("dirs", nargs="+", type=Path, help="directories to search for runs")
    p.add_argument("--by", help="comma-separated config keys for the rows (encoder = "
                   "encoder.name); default: the keys that vary across the runs, "
                   "but seed")  # fmt: skip
    p.add_argument("--format", default="md", help=f"one of {', '.join(FORMATS)} (default md)")
    p.add_argument("--out", type=Path, help="write the table here instead of to stdout")
    p.add_argument("--metrics", help="comma-separated patterns of summary keys, e.g. "
                   "'test/*/auc'; default: each task's first metric on test")  # fmt: skip
    p.add_argument("--baseline", help="p-values against this row (label such as "
                   "single_task/static, or 0-based index); default: each row's single-task "
                   "baseline")  # fmt: skip
    p.add_argument("--plots", type=Path, help="directory for the PNG figures")
    p.add_argument("--no-plots", action="store_true", help="write no figures")
    p.add_argument("--runs", type=Path, help="also write the per-run table (config + summary) "
                   "as CSV here")  # fmt: skip
    p.add_argument("--means-only", action="store_true", help="Markdown/LaTeX: only the rows' "
                   "n and mean ± std cells (no best, gain, Δm, seesaw or p columns)")  # fmt: skip
    p.add_argument("--protocol", help="a published experiment's table instead (Markdown): "
                   "census_groups, mmoe_synthetic")  # fmt: skip
    return p


def split(text: str | None) -> list[str]:
    return [part.strip() for part in (text or "").split(",") if part.strip()]


def report(argv: list[str]) -> str:
    """Run the command; returns what was printed or written."""
    args = parser().parse_args(argv)
    if args.format not in FORMATS:
        raise ReportError(f"--format {args.format}: use one of {', '.join(FORMATS)}")
    table, notes = collect_runs(args.dirs)
    if args.protocol:
        return protocol_command(args, table, notes)
    by = resolve_by(table, split(args.by)) if args.by else default_by(table)
    metrics = select_metrics(table, split(args.metrics))
    result = build_report(table, by, metrics, args.baseline)
    result.notes[:0] = notes
    text = render(result, args.format, args.means_only)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(text)
        print(f"report: {args.out} ({len(result.rows)} rows, {len(table)} runs)", file=sys.stderr)
    else:
        sys.stdout.write(text)
    if args.runs:
        args.runs.parent.mkdir(parents=True, exist_ok=True)
        table.to_csv(args.runs, index=False)
    plots = args.plots or (args.out.parent / "plots" if args.out else None)
    if plots and not args.no_plots:
        from mtfw.report.plots import write_plots  # matplotlib only when figures are made

        for path in write_plots(result, plots):
            print(f"plot: {path}", file=sys.stderr)
    return text


def protocol_command(args: argparse.Namespace, table, notes: list[str]) -> str:
    """``--protocol NAME``: the protocol's Markdown, printed or written to ``--out``."""
    from mtfw.report.protocols import protocol_report

    if args.format != "md" or args.by or args.metrics or args.baseline or args.means_only:
        raise ReportError("--protocol writes its own Markdown table: drop --format, --by, "
                          "--metrics, --baseline and --means-only")  # fmt: skip
    text = protocol_report(table, args.protocol) + "".join(f"note: {n}\n" for n in notes)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(text)
        print(f"report: {args.out} ({len(table)} runs, protocol {args.protocol})",
              file=sys.stderr)  # fmt: skip
    else:
        sys.stdout.write(text)
    return text


def main(argv: list[str]) -> None:
    """``mtfw report``: bad input raises a ReportError (the CLI prints it and exits 2)."""
    report(argv)
