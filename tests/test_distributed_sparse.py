"""``optim.sparse_embeddings=true`` under torchrun: the tables' sparse gradients are averaged over
the ranks on the union of their rows, so 2 gloo processes train the parameters of one process and
every rank's SparseAdam takes the same step.

Tolerance as in test_distributed.py (float32 sums in another order, Adam steps of lr 1e-3):
``atol=2e-5, rtol=1e-4`` against one process; the ranks against each other: bit-identical (the
averaged gradients are one all-reduce's output).
"""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
import torch.multiprocessing as mp
from conftest import summary
from distributed_support import experiment, free_port, train_cases, worker
from test_distributed_cli import finished, torchrun

from mtfw import distributed
from mtfw.distributed import sparse_gradients
from mtfw.trainer.sparse_embeddings import DenseAndSparse, sparse_tables

# Click logs of the Ali-CCP schema (23 categorical fields): the tables are most of the model.
# Batches of 31 rows: shares of 16 and 15, whose looked-up rows overlap (Zipf ids) and differ.
CASES = [("static", None), ("pcgrad", "parameters"), ("mgda", "representation")]
CTR = ("data=synthetic_ctr", "task=[click,purchase]", "data.rows=1500", "encoder=mmoe",
       "encoder.n_experts=2", "encoder.expert.hidden=[8]", "optim.sparse_embeddings=true",
       "trainer.batch_size=31", "trainer.max_steps_per_epoch=4",
       "trainer.eval_batch_size=256")  # fmt: skip


# One process, then a group of two spawned interpreters, 3 cases of 4 steps: ~20-30 s.
@pytest.mark.slow
def test_two_gloo_ranks_train_the_sparse_tables_of_one_process(tmp_path: Path) -> None:
    overrides = (*CTR, f"data.cache={tmp_path / 'cache'}")
    initial = experiment(overrides)  # generates the data once, before the ranks read it
    assert isinstance(initial.optimizer, DenseAndSparse)
    table = sparse_tables(initial.model)[0].weight.detach().clone()
    one = train_cases(CASES, overrides)
    args = (2, free_port(), CASES, tmp_path / "rank0.pt", overrides, None, True)
    mp.spawn(worker, args=args, nprocs=2, join=True)
    ranks = [torch.load(tmp_path / f"rank{r}.pt", weights_only=False) for r in (0, 1)]
    for name, mode in CASES:
        key = f"{name}-{mode}"
        for a, b, c in zip(one[key], ranks[0][key], ranks[1][key], strict=True):
            torch.testing.assert_close(b, a, atol=2e-5, rtol=1e-4)
            assert torch.equal(b, c), key  # every rank took the same step
        moved = (one[key][0] != table).any(1)  # the first parameter: the input module's table
        assert 0 < moved.sum() < len(table), key  # only the looked-up rows moved (lazy)
    assert ranks[0]["val_initial"] == one["val_initial"]


# One process, then two spawned interpreters, 3 cases of 2 steps: ~10-20 s.
@pytest.mark.slow
def test_a_rank_with_no_rows_of_the_last_batch_adds_no_table_rows(tmp_path: Path) -> None:
    """1,200 train rows in batches of 1,199: the second batch has one row, rank 1 none (its
    tables' gradient is empty or None); the union is rank 0's rows."""
    overrides = (*[o for o in CTR if not o.startswith("trainer.")], "trainer.batch_size=1199",
                 "trainer.max_steps_per_epoch=2", "trainer.eval_batch_size=256",
                 f"data.cache={tmp_path / 'cache'}")  # fmt: skip
    one = train_cases(CASES, overrides)
    args = (2, free_port(), CASES, tmp_path / "rank0.pt", overrides, None, True)
    mp.spawn(worker, args=args, nprocs=2, join=True)
    ranks = [torch.load(tmp_path / f"rank{r}.pt", weights_only=False) for r in (0, 1)]
    for name, mode in CASES:
        key = f"{name}-{mode}"
        for a, b, c in zip(one[key], ranks[0][key], ranks[1][key], strict=True):
            torch.testing.assert_close(b, a, atol=2e-5, rtol=1e-4)
            assert torch.equal(b, c), key


def test_one_process_leaves_a_sparse_gradient_alone() -> None:
    table = torch.nn.Parameter(torch.zeros(5, 2))
    table.grad = torch.sparse_coo_tensor(
        torch.tensor([[3, 1, 3]]), torch.ones(3, 2), (5, 2), check_invariants=True
    )
    grad = table.grad
    distributed.average_gradients([table])
    assert table.grad is grad and not distributed.active()


def test_a_rank_writes_its_rows_into_the_union_and_gets_them_back_sparse() -> None:
    table = torch.nn.Parameter(torch.zeros(6, 2))
    table.grad = torch.sparse_coo_tensor(torch.tensor([[4, 1, 4]]),
                                         torch.arange(6.0).view(3, 2), (6, 2),
                                         check_invariants=True)  # fmt: skip
    union = torch.tensor([0, 1, 4, 5])  # rows 0 and 5: another rank's only
    block = sparse_gradients.dense_rows(table, union)
    assert block.tolist() == [[0, 0], [2, 3], [4 + 0, 5 + 1], [0, 0]]  # duplicates summed
    grad = sparse_gradients.sparse_grad(table, union, block.reshape(-1))
    assert grad.is_sparse and grad.is_coalesced() and grad.indices()[0].tolist() == [0, 1, 4, 5]
    assert torch.equal(grad.to_dense(), table.grad.to_dense())  # the zero rows stay listed


def test_the_union_of_one_process_is_its_own_rows_per_table() -> None:
    tables = [torch.nn.Parameter(torch.zeros(n, 2)) for n in (4, 3)]
    for t, rows in zip(tables, ([[2, 0, 2]], [[1]]), strict=True):
        values = torch.ones(len(rows[0]), 2)
        t.grad = torch.sparse_coo_tensor(
            torch.tensor(rows), values, (len(t), 2), check_invariants=True
        )
    union = sparse_gradients.touched_rows(tables)
    assert [u.tolist() for u in union] == [[0, 2], [1]]  # table-local row numbers, sorted


# One torchrun launch of two interpreters on generated click logs: ~20-30 s.
@pytest.mark.slow
def test_torchrun_trains_with_sparse_embeddings(workdir: Path) -> None:
    args = [*CTR, "trainer.max_epochs=1", "trainer.batch_size=64", "trainer.num_threads=1",
            "weighting=pcgrad", f"data.cache={workdir / 'cache'}", "hydra.run.dir=ddp"]  # fmt: skip
    out = finished(torchrun(*args, cwd=workdir))
    assert "torchrun: 2 ranks (gloo), global batch 64" in out
    s = summary(workdir / "ddp")
    assert s["status"] == "completed" and 0 < s["test/click/auc"] < 1
    saved = torch.load(workdir / "ddp" / "checkpoint.pt", weights_only=True)
    assert set(saved["optimizer"]) == {"dense", "sparse"}
