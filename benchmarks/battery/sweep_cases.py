"""Bad ``mtfw sweep`` specs (search expressions, samplers, pruners, objectives, study settings)
and ``mtfw list`` kinds."""

from __future__ import annotations

from battery.runner import Case
from battery.setups import TINY


def sweep(name: str, *args: str, study: str = "architecture", says: str) -> Case:
    """``mtfw sweep sweep=STUDY [TINY] ARGS`` in a fresh directory (sweep.dir=sw)."""
    argv = ("sweep", f"sweep={study}", *TINY, "sweep.dir=sw", "sweep.n_trials=2", *args)
    return Case(f"sweep: {name}", argv, says=says)


CASES = [
    Case("sweep: no study named", ("sweep", *TINY), says="name one sweep"),
    Case("sweep: study misspelt", ("sweep", "sweep=archtecture"), says="archtecture"),
    Case("sweep: a flag", ("sweep", "sweep=architecture", "-m"), says="-m"),
    sweep("interval reversed", "optim.lr=interval(0.1,0.01)", says="optim.lr"),
    sweep("interval unparseable", "optim.lr=interval(1e-3)", says="optim.lr"),
    sweep("log interval from 0", "optim.lr=tag(log,interval(0,0.1))", says="optim.lr"),
    sweep("int interval of words", "encoder.n_experts=int(interval(a,b))", says="n_experts"),
    sweep("choice of a misspelt encoder", "encoder=choice(mmoe,ple2)", says="ple2"),
    sweep("searched key misspelt", "encoder.n_expert=choice(2,4)", says="n_expert"),
    sweep("sampler unknown", "sweep.sampler=tpee", says="tpee"),
    sweep("sampler name unknown", "sweep.sampler.name=tpee", says="tpee"),
    sweep("sampler option unknown", "+sweep.sampler.n_startup=3", says="n_startup"),
    sweep("pruner unknown", "sweep.pruner=medain", says="medain"),
    sweep("pruner key misspelt", "sweep.pruner.nam=median", says="sweep.pruner.nam"),
    sweep(
        "pruner on two objectives",
        "sweep.pruner=median",
        study="task_weights",
        says="single objective",
    ),
    sweep("grid over intervals", "sweep.sampler=grid", says="grid"),
    sweep("objective unknown", "sweep.objectives=[val/income/aucc]", says="val/income/aucc"),
    sweep("objective on test", "sweep.objectives=[test/income/auc]", says="test"),
    sweep("no objectives", "sweep.objectives=[]", says="objectives"),
    sweep(
        "objective direction unknown",
        "sweep.objectives=[{val/mean/loss:sideways}]",
        says="sideways",
    ),
    sweep("n_trials 0", "sweep.n_trials=0", says="sweep.n_trials"),
    sweep("n_trials negative", "sweep.n_trials=-1", says="sweep.n_trials"),
    sweep("n_trials a word", "sweep.n_trials=abc", says="sweep.n_trials"),
    sweep("n_trials 2.5", "sweep.n_trials=2.5", says="sweep.n_trials"),
    sweep("n_trials key misspelt", "sweep.n_trial=3", says="n_trial"),
    sweep("n_jobs 0", "sweep.n_jobs=0", says="sweep.n_jobs"),
    sweep("timeout negative", "sweep.timeout=-5", says="sweep.timeout"),
    sweep("fail_fast 0", "sweep.fail_fast=0", says="sweep.fail_fast"),
    sweep("storage not a URL", "sweep.storage=nowhere", says="storage"),
    sweep("resume with nothing to resume", "sweep.resume=true", says="resume"),
    sweep("enqueue of a bad choice", "sweep.enqueue=[{encoder:nope}]", says="nope"),
    sweep("hydra.run.dir", "hydra.run.dir=x", says="sweep.dir"),
    sweep("a bad value for every trial", "optim.lr=-1", says="optim.lr"),
    sweep("a bad type for every trial", "trainer.max_epochs=three", says="trainer.max_epochs"),
    sweep("a misspelt key for every trial", "trainer.max_epoch=3", says="max_epoch"),
    Case("list: unknown kind", ("list", "encoders"), says="encoders"),
    Case("control: list encoder", ("list", "encoder"), expect="accepted", says="mmoe"),
]
