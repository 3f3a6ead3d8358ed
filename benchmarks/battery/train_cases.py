"""Bad ``mtfw train`` inputs: issue 13's list, misspelt choices and keys, tasks a data set cannot
provide, split settings, data files and paths, code under hydra., used run directories."""

from __future__ import annotations

from battery.runner import Case
from battery.setups import (
    PEOPLE,
    PEOPLE_CSV,
    RANDOM,
    TINY,
    constant_label,
    numeric_with_text,
    run_copy,
    truncated_gzip,
    write,
)


def train(name: str, *overrides: str, tiny: bool = True, flags: tuple = (), **kw) -> Case:
    """``mtfw train FLAGS [TINY] OVERRIDES``: flags first, as Hydra wants them; the tiny budget
    before the case's own overrides, so the case's values win."""
    return Case(name, ("train", *flags, *(TINY if tiny else ()), *overrides), **kw)


def hillstrom(name: str, file: str, setup, says: str) -> Case:
    """data=hillstrom reading ``file`` (prepared by ``setup``), task visit."""
    return train(
        name, "data=hillstrom", f"data.path={file}", "task=[visit]", setup=setup, says=says
    )


def people(name: str, yaml_text: str, says: str) -> Case:
    """A user config folder (--config-dir=conf) whose conf/data/people.yaml is ``yaml_text``."""

    def setup(case_dir, fx) -> None:
        write("conf/data/people.yaml", yaml_text)(case_dir, fx)
        write("people.csv", PEOPLE_CSV)(case_dir, fx)

    return train(
        name, "data=people", "task=[income]", flags=("--config-dir=conf",), setup=setup, says=says
    )


ISSUE_13 = [  # "tracebacks once"
    train("lr negative", "optim.lr=-0.1", says="optim.lr=-0.1"),
    train("lr a word", "optim.lr=fast", says="optim.lr='fast'"),
    train("expert dropout 2", "encoder.expert.dropout=2", says="encoder.expert.dropout"),
    train("max_epochs a word", "trainer.max_epochs=three", says="trainer.max_epochs"),
    train("n_experts 2.5", "encoder.n_experts=2.5", says="encoder.n_experts"),
    train("eval_batch_size 0", "trainer.eval_batch_size=0", says="trainer.eval_batch_size"),
    train("seed a word", "seed=abc", says="seed"),
    train("device tpu", "trainer.device=tpu", says="trainer.device"),
    train("trainer deleted", "~trainer", tiny=False, says="trainer"),
    train("betas out of range", "optim.betas=[2,3]", says="optim.betas"),
    train("tower negative", "task.income.tower=[-5]", says="task.income.tower"),
    train("task weight a word", "task.income.weight=high", says="task.income.weight"),
    hillstrom("empty data file", "empty.csv", write("empty.csv", b""), "empty.csv"),
    hillstrom("random-bytes data file", "random.csv", write("random.csv", RANDOM), "random.csv"),
    hillstrom("truncated csv.gz", "t.csv.gz", write("t.csv.gz", truncated_gzip()), "t.csv.gz"),
    hillstrom("non-parquet .parquet", "f.parquet", write("f.parquet", "a,b\n1,2\n"), "f.parquet"),
]
SILENT_ONCE = [  # "silently accepted once"
    train("stray top-level key", "+foo=1", says="foo"),
    train("embedding dim 0", "embedding.dim=0", says="embedding.dim"),
    train("max_steps_per_epoch 0", "trainer.max_steps_per_epoch=0", says="max_steps_per_epoch"),
    train("patience -1", "trainer.patience=-1", says="trainer.patience"),
    train("task twice", "task=[income,income]", says="more than once"),
    train("task twice of three", "task=[income,marital,income]", says="more than once"),
    train(
        "a string among numeric",
        "data=tabular_example",
        "data.path=log.csv",
        "task=[click]",
        setup=numeric_with_text,
        says="price",
    ),
    train("lr 1e6 diverges", "optim.lr=1e6", says="optim.lr", keeps_record=True),
    train(
        "control: constant label",
        "data=tabular_example",
        "data.path=log.csv",
        "task=[click]",
        setup=constant_label,
        expect="accepted",
        says="undefined",
    ),
]
NAMES = [  # misspelt group choices and keys
    train("encoder misspelt", "encoder=mmeo", says="mmeo"),
    train("weighting misspelt", "weighting=uncertanty", says="uncertanty"),
    train("optim misspelt", "optim=adamm", says="adamm"),
    train("data misspelt", "data=censsus", says="censsus"),
    train("trainer key misspelt", "trainer.max_epoch=3", says="max_epoch"),
    train("optim key misspelt", "optim.lrr=0.1", says="lrr"),
    train("embedding key misspelt", "embedding.dimm=4", says="dimm"),
    train("task name misspelt", "task=[income,marrital]", says="marrital"),
    train("task key misspelt", "task.incme.weight=2", says="incme"),
    train("added encoder key misspelt", "+encoder.n_expert=4", says="n_expert"),
    train("added split key misspelt", "+data.splt.val=0.2", says="splt"),
    train("expert name unknown", "encoder.expert=mlpp", says="mlpp"),
    train("activation unknown", "encoder.expert.activation=relu6", says="relu6"),
    train("added task dropout 2", "+task.income.dropout=2", says="task.income.dropout"),
    train("task weight negative", "task.income.weight=-1", says="task.income.weight"),
    train("task metric unknown", "task.income.metrics=[aucc]", says="aucc"),
    train("monitor on test", "trainer.monitor=test/income/auc", says="validation"),
    train("monitor unknown", "trainer.monitor=val/income/aucc", says="val/income/aucc"),
    train("mode unknown", "trainer.mode=up", says="trainer.mode"),
    train("progress unknown", "trainer.progress=sometimes", says="trainer.progress"),
    train("deterministic a word", "trainer.deterministic=maybe", says="trainer.deterministic"),
    train("device cuda:x", "trainer.device=cuda:x", says="trainer.device"),
    Case("unknown command", ("trian",), says="trian"),
    train("sweep through train", "sweep=architecture", says="mtfw sweep"),
]
TASKS = [  # tasks a data set does not have or cannot provide
    train("census task on synthetic", "data=synthetic", says="income"),
    train("synthetic task on census", "task=[y1]", says="y1"),
    train("hillstrom task on census", "task=[visit]", says="visit"),
    train("ranking on census", "task=[ranking]", says="ranking"),
    train("interest on census", "task=[interest]", says="interest"),
    train("no task", "task=[]", says="task"),
    train("esmm on census tasks", "encoder=esmm", says="esmm"),
    train("sasrec history on census", "history=sasrec", says="history"),
    train("baseline on census", "baseline=popularity", says="popularity"),
]
SPLITS = [
    train("split val 0", "data.split.val=0.0", says="val"),
    train("split val 1.5", "data.split.val=1.5", says="val=1.5"),
    train("split val negative", "data.split.val=-0.1", says="val=-0.1"),
    train("split test a word", "data.split.test=abc", says="data.split.test"),
    train("split shares over 1", "data.split.val=0.6", "data.split.test=0.6", says="split"),
    train("split seed a word", "data.split.seed=abc", says="data.split.seed"),
    train("split by unknown", "+data.split.by=nonsense", says="nonsense"),
    train("split key misspelt", "data.split.vall=0.1", says="vall"),
    train("folds 1", "data.split.folds=1", "data.split.fold=0", says="at least 2 folds"),
    train("fold out of range", "data.split.folds=3", "data.split.fold=3", says="0..2"),
    train("fold without folds", "data.split.fold=1", says="data.split.folds is not set"),
    train("folds a word", "data.split.folds=five", says="data.split.folds"),
    train("folds more than rows", "data.split.folds=99763", "data.split.fold=0", says="99762 rows"),
    train(
        "stratify misspelt",
        "data.split.folds=3",
        "data.split.fold=0",
        "data.split.stratify=incme",
        says="Did you mean 'income'",
    ),
    train(
        "stratify continuous",
        "data.split.folds=3",
        "data.split.fold=0",
        "data.split.stratify=wage_per_hour",
        says="binary or categorical",
    ),
    train(
        "group misspelt",
        "data.split.folds=3",
        "data.split.fold=0",
        "data.split.group=agee",
        says="Did you mean 'age'",
    ),
    train(
        "folds with time split",
        "experiment=ml100k_mtl",
        "data.split.folds=3",
        "data.split.fold=0",
        says="data.split.by=time with data.split.folds",
    ),
    train("cv 1", "cv=1", says="cv takes one number of folds"),
    train("cv beside fold", "cv=3", "data.split.fold=0", says="drop data.split.fold=0"),
]
DATA = [
    train("data path missing", "data.path=/nonexistent/census.gz", says="/nonexistent/census.gz"),
    train("data path a folder", "data.path=.", says="data.path"),
    train("census file empty", "data.path=e.gz", setup=write("e.gz", b""), says="e.gz"),
    train("census file random", "data.path=r.gz", setup=write("r.gz", RANDOM), says="r.gz"),
    train(
        "hillstrom not found",
        "data=hillstrom",
        "task=[visit]",
        says="hillstrom",
        env=(("MTFW_DATA", "{dir}/nothing"),),
    ),
    train("feature unknown", "data.features=[age,nonexistent]", says="nonexistent"),
    train("feature is a label", "data.features=[age,marital_stat]", says="marital_stat"),
    train("download a word", "data.download=maybe", says="data.download"),
    hillstrom("header-only csv", "h.csv", write("h.csv", "recency,history,visit\n"), "h.csv"),
    hillstrom(
        "label column missing", "m.csv", write("m.csv", "recency,history\n1,2\n3,4\n"), "visit"
    ),
    hillstrom("unknown file format", "d.json", write("d.json", '{"a": 1}'), "d.json"),
    people("user config bad yaml", "name: tabular\npath: [unclosed\n", "people.yaml"),
    people("user config a list", "- name\n- tabular\n", "people"),
    people("user config unknown column", PEOPLE.replace("[age]", "[agee]"), "agee"),
    people("user config label unknown", PEOPLE.replace("equals", "equalz"), "equalz"),
]
CODE_AND_DIRS = [
    train("hydra callback", "+hydra.callbacks.x._target_=builtins.print", says="hydra.callbacks"),
    train("_target_ under hydra.job", "+hydra.job.x._target_=builtins.print", says="_target_"),
    train("hydra sweeper target", "hydra.sweeper={_target_:builtins.print}", says="_target_"),
    train("forced stray key", "++trainr=1", says="trainr"),
    train("run dir holds a run", "hydra.run.dir=run", setup=run_copy(), says="already exists"),
    train(
        "run dir via oc.env holds a run",
        "hydra.run.dir=${oc.env:BATTERY_RUN}",
        setup=run_copy(),
        env=(("BATTERY_RUN", "{dir}/run"),),
        says="already exists",
    ),
    train("multirun of bad values", "optim.lr=-1,-2", flags=("-m",), says="optim.lr"),
    train("a flag between overrides", "-m", "seed=1", says="-m"),
    train("control: tiny run", expect="accepted", says="run directory"),
    Case("control: --cfg job", ("train", "--cfg", "job"), expect="accepted", says="trainer:"),
]
CASES = [*ISSUE_13, *SILENT_ONCE, *NAMES, *TASKS, *SPLITS, *DATA, *CODE_AND_DIRS]
