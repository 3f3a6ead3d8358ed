"""`mtfw report`: grouping, mean/std, MTL gain, Delta_m, seesaw and p-values against hand-computed
values on hand-made run directories; the outputs parse; the figures are PNGs; real runs too."""

from __future__ import annotations

import io
import json
import math
import re
import statistics
from pathlib import Path

import matplotlib.pyplot as plt
import pandas as pd
import pytest
import yaml
from conftest import TINY, cli, summary

from mtfw.cli import main as cli_main
from mtfw.report.build import build_report, select_metrics
from mtfw.report.collect import ReportError, collect_runs
from mtfw.report.command import report
from mtfw.report.group import default_by
from mtfw.report.plots import pareto_front

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
# (encoder, seed) -> (test/a/auc, test/b/rmse): a is higher-is-better, b lower-is-better
VALUES = {
    ("single_task", 0): (0.80, 0.50), ("single_task", 1): (0.82, 0.52),
    ("single_task", 2): (0.84, 0.54), ("mmoe", 0): (0.83, 0.55), ("mmoe", 1): (0.86, 0.56),
    ("mmoe", 2): (0.87, 0.57), ("shared_bottom", 0): (0.81, 0.53),
}  # fmt: skip


def fake_run(run_dir: Path, encoder: str, seed: int, auc: float, rmse: float) -> None:
    """A run directory as `mtfw train` leaves it, with chosen metrics."""
    (run_dir / ".hydra").mkdir(parents=True)
    config = {
        "seed": seed, "data": {"name": "synthetic", "n_samples": 100, "root": f"/x/{seed}"},
        "encoder": {"name": encoder, **({"n_experts": 2} if encoder == "mmoe" else {})},
        "task": {"a": {"name": "binary", "metrics": ["auc"]},
                 "b": {"name": "regression", "metrics": ["rmse", "mae"]}},
        "weighting": {"name": "static"}, "trainer": {"num_threads": seed + 1, "mode": "auto"},
    }  # fmt: skip
    (run_dir / ".hydra" / "config.yaml").write_text(yaml.safe_dump(config))
    s = {"status": "completed", "seed": seed, "monitor": "val/mean/loss",
         "monitor_value": 1 - auc, "val/a/auc": auc, "val/b/rmse": rmse, "test/a/auc": auc,
         "test/b/rmse": rmse, "test/b/mae": rmse / 2, "test/mean/loss": 0.3}  # fmt: skip
    if encoder == "mmoe":
        s.update({"gate/a/0": 0.7, "gate/a/1": 0.3, "gate/b/0": 0.2, "gate/b/1": 0.8})
    (run_dir / "summary.json").write_text(json.dumps(s))
    rows = [{"kind": "step", "epoch": 1, "step": 1, "train/a/loss": 0.6}]
    rows += [
        {"epoch": e, "step": e, "val/a/auc": auc - 0.1 / e, "val/b/rmse": rmse} for e in (1, 2)
    ]
    (run_dir / "metrics.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))


@pytest.fixture
def runs(tmp_path: Path) -> Path:
    root = tmp_path / "study"
    for i, ((encoder, seed), (auc, rmse)) in enumerate(VALUES.items()):
        fake_run(root / "multi" / str(i), encoder, seed, auc, rmse)
    fake_run(root / "pruned", "mmoe", 5, 0.5, 0.5)
    s = summary(root / "pruned")
    (root / "pruned" / "summary.json").write_text(json.dumps({**s, "status": "pruned"}))
    return root


def values(encoder: str, index: int) -> list[float]:
    return [v[index] for (e, _), v in VALUES.items() if e == encoder]


def p_df2(diffs: list[float]) -> float:
    """Two-sided p of a paired t-test with 3 pairs: for 2 degrees of freedom the t CDF is
    1/2 + t / (2 sqrt(2 + t^2)), so p = 1 - |t| / sqrt(2 + t^2)."""
    t = statistics.mean(diffs) / (statistics.stdev(diffs) / math.sqrt(len(diffs)))
    return 1 - abs(t) / math.sqrt(2 + t * t)


def test_groups_mean_std_best_gain_delta_m_seesaw_and_p(runs: Path) -> None:
    table, notes = collect_runs([runs])
    assert len(table) == 7 and any("1 pruned" in n for n in notes)  # the pruned run left out
    assert default_by(table) == ["encoder.name"]  # n_experts follows from encoder.name; threads,
    # data.root and seed are run control
    assert select_metrics(table, None) == ["test/a/auc", "test/b/rmse"]  # first of each task
    result = build_report(table, ["encoder.name"], ["test/a/auc", "test/b/rmse"])
    single, mmoe, shared = result.rows
    assert [r.group.label for r in result.rows] == ["single_task", "mmoe", "shared_bottom"]
    for row, encoder in ((single, "single_task"), (mmoe, "mmoe")):
        mean, std, n = row.stats["test/a/auc"]
        assert n == 3 and mean == pytest.approx(statistics.mean(values(encoder, 0)))
        assert std == pytest.approx(statistics.stdev(values(encoder, 0)))  # sample std
    assert math.isnan(shared.stats["test/a/auc"][1])  # one run: no std
    assert mmoe.best == {"test/a/auc": 0.87, "test/b/rmse": 0.57}  # lowest val/mean/loss
    # MTL gain (Tang et al. 2020, Eq. 11): MTL - single for AUC, single - MTL for RMSE
    a_mtl, a_single = statistics.mean(values("mmoe", 0)), 0.82
    b_mtl, b_single = 0.56, 0.52
    assert mmoe.baseline == "single_task" and single.baseline is None
    assert mmoe.gains["a"] == pytest.approx(a_mtl - a_single)  # +0.0333
    assert mmoe.gains["b"] == pytest.approx(b_single - b_mtl)  # -0.04
    # Delta_m (Maninis et al. 2019): mean over tasks of (-1)^l (M_m - M_b) / M_b, in %
    expected = ((a_mtl - a_single) / a_single - (b_mtl - b_single) / b_single) / 2 * 100
    assert mmoe.delta_m == pytest.approx(expected) and mmoe.delta_m == pytest.approx(-1.81363, 1e-4)
    assert mmoe.seesaw is True  # a gains, b loses
    assert shared.seesaw is False and shared.gains == pytest.approx({"a": -0.01, "b": -0.01})
    # paired by seed: differences 0.03, 0.04, 0.03 (a) and 0.05, 0.04, 0.03 (b)
    assert mmoe.p_values["a"][0] == pytest.approx(p_df2([0.03, 0.04, 0.03]))
    assert mmoe.p_values["b"] == (pytest.approx(p_df2([0.05, 0.04, 0.03])), 3)
    assert shared.p_values["a"] == (pytest.approx(math.nan, nan_ok=True), 1)  # one pair: no test


def markdown_table(text: str) -> list[list[str]]:
    lines = [line for line in text.splitlines() if line.startswith("|")]
    assert re.fullmatch(r"\|(:?-{3,}:?\|)+", lines[1]), lines[1]  # the header separator
    rows = [[c.strip() for c in line.strip("|").split(" | ")] for line in lines]
    assert len({len(r) for r in rows[:1] + rows[2:]}) == 1  # one column count throughout
    assert len(lines[1].strip("|").split("|")) == len(rows[0])
    return [rows[0], *rows[2:]]


def test_a_key_that_holds_the_seed_neither_makes_rows_nor_mixes_them(runs: Path) -> None:
    table, _ = collect_runs([runs])
    table["features.vae.seed"] = table["seed"]  # features.vae.seed: ${seed}, resolved per run
    table.loc[table.index[-1], "features.vae.seed"] = math.nan  # a run without it: 0.0, 1.0, ...
    table.attrs["config_keys"] = [*table.attrs["config_keys"], "features.vae.seed"]
    assert default_by(table) == ["encoder.name"]
    result = build_report(table, ["encoder.name"], ["test/a/auc"])
    assert not any("mixes" in n for n in result.notes), result.notes
    table.loc[table.index[0], "features.vae.seed"] = 99  # no longer the seed: a setting
    assert "features.vae.seed" in default_by(table)


def test_markdown_table(runs: Path, capsys) -> None:
    report([str(runs), "--by", "encoder"])  # encoder stands for encoder.name
    header, *rows = markdown_table(capsys.readouterr().out)
    cells = {r[0]: dict(zip(header, r, strict=True)) for r in rows}
    assert header[:4] == ["encoder", "n", "a auc", "b rmse"]
    assert cells["mmoe"]["n"] == "3" and cells["mmoe"]["a auc"] == "0.8533 ± 0.0208"
    assert cells["mmoe"]["gain a"] == "+0.0333" and cells["mmoe"]["gain b"] == "-0.0400"
    assert cells["mmoe"]["Δm %"] == "-1.814" and cells["mmoe"]["seesaw"] == "yes"
    assert cells["mmoe"]["p a"] == f"{p_df2([0.03, 0.04, 0.03]):.3f}"
    assert cells["single_task"]["gain a"] == "-" and cells["shared_bottom"]["a auc"] == "0.8100"
    assert cells["mmoe"]["best a auc"] == "0.8700"


def test_means_only_keeps_the_labels_n_and_mean_std_cells(runs: Path, capsys) -> None:
    report([str(runs), "--by", "encoder", "--means-only"])
    text = capsys.readouterr().out
    header, *rows = markdown_table(text)
    assert header == ["encoder", "n", "a auc", "b rmse"]
    assert ["mmoe", "3", "0.8533 ± 0.0208", "0.5600 ± 0.0100"] in rows
    assert "gain" not in text and "best:" not in text and "mean ± std: over the n runs" in text
    latex = report([str(runs), "--by", "encoder", "--means-only", "--format", "latex"])
    assert "{lrrr}" in latex and "best" not in latex  # one label column, n, two metrics
    with pytest.raises(ReportError, match="drop --format, --by, --metrics, --baseline and"):
        report([str(runs), "--protocol", "census_groups", "--means-only"])


def test_an_int_key_some_runs_lack_prints_as_an_int(runs: Path, capsys) -> None:
    report([str(runs), "--by", "encoder.name,encoder.n_experts", "--means-only"])
    _, *rows = markdown_table(capsys.readouterr().out)
    labels = {tuple(r[:2]) for r in rows}  # n_experts: 2 on mmoe runs only
    assert labels == {("mmoe", "2"), ("single_task", "-"), ("shared_bottom", "-")}, labels


def test_latex_table_escapes_and_matches_its_column_spec(runs: Path, capsys) -> None:
    report([str(runs), "--format", "latex"])
    text = capsys.readouterr().out
    spec = re.search(r"\\begin\{tabular\}\{([lr]+)\}", text).group(1)
    body = [line for line in text.splitlines() if line.endswith("\\\\")]
    assert len(body) == 4  # header + 3 rows
    for line in body:
        assert len(line.removesuffix("\\\\").split(" & ")) == len(spec)
        bare = re.sub(r"\$[^$]*\$", "", line)  # outside math mode: _ and % are escaped
        assert not re.search(r"(?<!\\)[_%]", bare), line
    assert "single\\_task" in text and "$\\Delta_m$ \\%" in text and "$\\pm$" in text
    assert "\\toprule" in text and "\\end{tabular}" in text


def test_csv_reads_back_with_the_numbers(runs: Path, capsys, tmp_path: Path) -> None:
    report([str(runs), "--format", "csv", "--out", str(tmp_path / "t.csv"), "--no-plots"])
    frame = pd.read_csv(tmp_path / "t.csv").set_index("label")
    assert frame.loc["mmoe", "test/a/auc mean"] == pytest.approx(0.853333, 1e-5)
    assert frame.loc["mmoe", "gain b"] == pytest.approx(-0.04)
    assert frame.loc["mmoe", "delta_m %"] == pytest.approx(-1.81363, 1e-4)
    assert frame.loc["mmoe", "seeds"] == "0 1 2" and frame.loc["mmoe", "baseline"] == "single_task"
    assert "paired t-test" in frame.loc["mmoe", "test"]
    assert not (tmp_path / "plots").exists()  # --no-plots


def test_plots_are_valid_pngs(runs: Path, tmp_path: Path) -> None:
    report([str(runs), "--out", str(tmp_path / "out" / "table.md")])
    plots = tmp_path / "out" / "plots"  # beside --out by default
    names = ("validation_curves.png", "tradeoff.png", "expert_utilisation.png")
    for name in names:
        assert (plots / name).read_bytes()[:8] == PNG_MAGIC, name
        image = plt.imread(plots / name)
        assert image.ndim == 3 and image.shape[0] > 100 and image.shape[1] > 100


def test_a_fixed_baseline_row_and_its_errors(runs: Path, capsys) -> None:
    report([str(runs), "--baseline", "mmoe", "--format", "csv"])
    frame = pd.read_csv(io.StringIO(capsys.readouterr().out)).set_index("label")
    assert frame.loc["single_task", "p a"] == pytest.approx(p_df2([0.03, 0.04, 0.03]))
    assert math.isnan(frame.loc["mmoe", "p a"])  # not tested against itself
    report([str(runs), "--baseline", "0", "--format", "csv"])  # by index: single_task
    assert "p: paired t-test" in report([str(runs), "--baseline", "0"])
    with pytest.raises(ReportError, match=r"no such row; rows .*0: single_task; 1: mmoe"):
        report([str(runs), "--baseline", "ple"])


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--by", "encoder.nme"], "no run has the config key 'encoder.nme'. Keys that vary"),
        (["--format", "html"], "--format html: use one of md, latex, csv"),
        (["--metrics", "test/*/ndcg"], "matches no metric; the runs have: test/a/auc"),
        (["--bogus"], "unrecognized arguments: --bogus"),
    ],
)
def test_bad_arguments_exit_2_with_a_message(runs: Path, args, message, capsys) -> None:
    with pytest.raises(SystemExit) as exit_info:
        cli_main(["report", str(runs), *args])
    err = capsys.readouterr().err
    assert exit_info.value.code == 2 and message in err and err.startswith("mtfw report: error: ")


def test_directories_without_runs(tmp_path: Path) -> None:
    (tmp_path / "empty" / "sub").mkdir(parents=True)
    with pytest.raises(ReportError, match=r"no runs found below .*empty: a run directory holds"):
        report([str(tmp_path / "empty")])
    with pytest.raises(ReportError, match=r"not a directory: .*nowhere"):
        report([str(tmp_path / "nowhere")])


def test_metric_patterns_and_unknown_directions(runs: Path, capsys) -> None:
    text = report([str(runs), "--metrics", "test/b/*,test/a/*", "--no-plots"])
    header = markdown_table(text)[0]
    assert header[2:5] == ["a auc", "b rmse", "b mae"]  # summary order; gains on a auc, b rmse
    assert "gain b" in header and "b: test/b/rmse" in text
    table, _ = collect_runs([runs])
    table["test/a/score"] = 0.5
    result = build_report(table, ["encoder.name"], ["test/a/score", "test/b/rmse"])
    assert any("direction unknown, taken as higher-is-better: test/a/score" in n
               for n in result.notes)  # fmt: skip


def test_pareto_front_honours_each_direction() -> None:
    points = pd.DataFrame([[0.9, 0.5], [0.8, 0.4], [0.7, 0.6], [0.85, 0.45]]).to_numpy()
    assert pareto_front(points, (True, True)).tolist() == [[0.7, 0.6], [0.9, 0.5]]
    low = pareto_front(points, (True, False)).tolist()  # higher x, lower y
    assert low == [[0.8, 0.4], [0.85, 0.45], [0.9, 0.5]]


@pytest.fixture(scope="module")
def real_runs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    base = tmp_path_factory.mktemp("report")
    cli("train", "-m", "encoder=single_task,mmoe", "seed=0,1", *TINY, "trainer.num_threads=1",
        "hydra.sweep.dir=multi", cwd=base)  # fmt: skip
    return base / "multi"


@pytest.mark.slow
def test_report_on_real_runs(real_runs: Path, tmp_path: Path) -> None:
    out = tmp_path / "report" / "table.md"
    cli("report", str(real_runs), "--out", str(out), cwd=tmp_path)
    header, *rows = markdown_table(out.read_text())
    cells = {r[0]: dict(zip(header, r, strict=True)) for r in rows}
    assert list(cells) == ["single_task", "mmoe"] and header[0] == "encoder"
    runs = {e: [summary(real_runs / str(j)) for j in jobs]
            for e, jobs in (("single_task", (0, 1)), ("mmoe", (2, 3)))}  # fmt: skip
    assert [r["seed"] for r in runs["mmoe"]] == [0, 1]
    means = {e: statistics.mean(r["test/income/auc"] for r in rs) for e, rs in runs.items()}
    std = statistics.stdev(r["test/income/auc"] for r in runs["mmoe"])
    assert cells["mmoe"]["n"] == "2"
    assert cells["mmoe"]["income auc"] == f"{means['mmoe']:.4f} ± {std:.4f}"
    gain = means["mmoe"] - means["single_task"]
    assert float(cells["mmoe"]["gain income"]) == pytest.approx(gain, abs=1e-4)
    for name in ("validation_curves.png", "tradeoff.png", "expert_utilisation.png"):
        assert (out.parent / "plots" / name).read_bytes()[:8] == PNG_MAGIC
    latex = cli("report", str(real_runs), "--format", "latex", cwd=tmp_path).stdout
    assert "\\begin{tabular}{lrrrrrrrrrrr}" in latex and "single\\_task" in latex
    runs_csv = tmp_path / "runs.csv"
    cli("report", str(real_runs), "--format", "csv", "--runs", str(runs_csv), cwd=tmp_path)
    assert len(pd.read_csv(runs_csv)) == 4


def test_report_errors_through_the_cli(tmp_path: Path) -> None:
    proc = cli("report", str(tmp_path), cwd=tmp_path, check=False)
    assert proc.returncode == 2 and "mtfw report: error: no runs found below" in proc.stderr


def test_default_rows_are_the_experiment_file_and_what_varies_within_it() -> None:
    from mtfw.report.group import default_by

    table = pd.DataFrame({
        "experiment": ["a", "a", "b", "b", "a"],
        "encoder.name": ["mmoe", "mmoe", "mmoe", "mmoe", "single_task"],
        "embedding.dim": [8, 8, 32, 32, 8],  # decided by the experiment file
        "seed": [0, 1, 0, 1, 0],
    })  # fmt: skip
    table.attrs["config_keys"] = ["experiment", "encoder.name", "embedding.dim", "seed"]
    assert default_by(table) == ["experiment", "encoder.name"]
    table["experiment"] = None  # runs composed without experiment files
    table.attrs["config_keys"] = ["experiment", "encoder.name", "embedding.dim", "seed"]
    assert default_by(table) == ["encoder.name", "embedding.dim"]


def test_aggregates_over_tasks_are_not_tasks_of_the_table() -> None:
    """`test/weighted/loss` (the default monitor's test value) and `test/mean/*` summarise the
    tasks: no column, MTL gain or Δm of their own (Δm once averaged the weighted loss in)."""
    import pandas as pd

    from mtfw.report.build import default_metrics, gain_metrics

    table = pd.DataFrame(columns=["test/a/auc", "test/b/rmse", "test/weighted/loss",
                                  "test/mean/loss"])  # fmt: skip
    assert default_metrics(table) == ["test/a/auc", "test/b/rmse"]
    chosen = ["test/a/auc", "test/weighted/loss", "test/mean/loss"]
    assert gain_metrics(chosen) == {"a": "test/a/auc"}
