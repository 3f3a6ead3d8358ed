"""Sequence-packed training (mtfw/data/interactions/windows.py): the windows hold each
interaction's history, the packed states equal the per-interaction formulation (dropout off),
and the batches cover every interaction once, in an order that depends on the seed only."""

from __future__ import annotations

import pytest
import torch
from recsys_support import prepare_tiny

from mtfw.data.interactions.sequences import train_history, user_runs
from mtfw.data.interactions.windows import UserWindows, geometry
from mtfw.data.needs import SequenceWindows
from mtfw.data.prepared import InputSpec
from mtfw.errors import ConfigError
from mtfw.models.history import MeanHistory
from mtfw.models.inputs import InputEmbedding
from mtfw.models.sasrec import SASRec

MEAN = SequenceWindows(positional=False)


def sequences(sizes: tuple[int, ...] = (1, 3, 7, 12, 30, 61), n_items: int = 40):
    """Users with these numbers of training interactions (rows sorted by user, then time)."""
    generator = torch.Generator().manual_seed(0)
    uid = torch.repeat_interleave(torch.arange(1, len(sizes) + 1), torch.tensor(sizes))
    item = torch.randint(1, n_items, (len(uid),), generator=generator)
    return uid, item, user_runs(uid)


def last_items(windows: UserWindows, length: int) -> torch.Tensor:
    """Each interaction's last ``length`` items as its window holds them, most recent last."""
    slot = windows.slot[:, None] - torch.arange(length - 1, -1, -1)
    held = windows.tokens[windows.owner[:, None], slot.clamp(min=0)]
    return torch.where(slot >= 0, held, 0)


@pytest.mark.parametrize(
    ("length", "context"),
    [(1, None), (1, 0), (2, None), (2, 1), (5, 0), (5, 3), (5, 4), (8, None), (8, 1), (8, 7)],
)
def test_every_interaction_is_owned_once_with_its_context(length, context) -> None:
    uid, item, runs = sequences()
    spec = SequenceWindows(positional=True, context=context)
    windows = UserWindows.build(item, runs, spec, length)
    width, least = geometry(spec, length)
    assert windows.tokens.shape[1] == width == length
    assert int(windows.count.sum()) == len(uid)
    owner = torch.repeat_interleave(torch.arange(len(windows.first)), windows.count)
    assert torch.equal(windows.owner, owner)  # consecutive rows, windows by user then time
    assert bool((windows.slot >= least).all()) and bool((windows.slot < width).all())
    # The newest window of each user ends at its latest item in the last position, as the
    # evaluation row does; its last `length` items there are the per-interaction history.
    history = train_history(uid, item, runs, length)
    newest = windows.slot == width - 1
    assert torch.equal(last_items(windows, length)[newest], history[newest])


@pytest.mark.parametrize("length", [1, 2, 5, 8])
def test_mean_windows_hold_exactly_the_per_interaction_histories(length) -> None:
    uid, item, runs = sequences()
    windows = UserWindows.build(item, runs, MEAN, length)
    assert windows.tokens.shape[1] == 2 * length - 1
    assert torch.equal(last_items(windows, length), train_history(uid, item, runs, length))


def test_mean_states_equal_the_mean_of_each_interactions_history() -> None:
    uid, item, runs = sequences()
    length, table = 8, torch.nn.Embedding(40, 16, padding_idx=0)
    windows, model = UserWindows.build(item, runs, MEAN, length), MeanHistory(16, length)
    with torch.no_grad():
        packed = model.states(windows.tokens, table(windows.tokens))[windows.owner, windows.slot]
        rows = train_history(uid, item, runs, length)
        assert torch.allclose(packed, model(rows, table(rows)), atol=1e-6)


@pytest.mark.parametrize("context", [None, 0, 5])
def test_sasrec_states_equal_the_model_unrolled_per_interaction(context) -> None:
    """Each interaction's packed state is the same model run on its own row: the window's
    positions up to the interaction's (``forward`` reads the row's last position)."""
    torch.manual_seed(0)
    uid, item, runs = sequences()
    length, table = 8, torch.nn.Embedding(40, 16, padding_idx=0)
    spec = SequenceWindows(positional=True, context=context)
    windows = UserWindows.build(item, runs, spec, length)
    model = SASRec(16, length, positions="absolute").eval()
    with torch.no_grad():
        packed = model.states(windows.tokens, table(windows.tokens))[windows.owner, windows.slot]
        for n, (w, p) in enumerate(zip(windows.owner.tolist(), windows.slot.tolist(), strict=True)):
            row = windows.tokens[w : w + 1, : p + 1]
            assert torch.allclose(packed[n], model(row, table(row))[0], atol=1e-5), n
        history = train_history(uid, item, runs, length)
        today = model(history, table(history))
    newest = windows.slot == length - 1  # the per-interaction row, exactly
    assert torch.allclose(packed[newest], today[newest], atol=1e-5)
    assert bool(newest.any()) and (context == length - 1 or not bool(newest.all()))


def test_sasrec_with_the_longest_context_is_the_per_interaction_formulation() -> None:
    torch.manual_seed(0)
    uid, item, runs = sequences()
    length, table = 8, torch.nn.Embedding(40, 16, padding_idx=0)
    spec = SequenceWindows(positional=True, context=length - 1)
    windows = UserWindows.build(item, runs, spec, length)
    model = SASRec(16, length, positions="absolute").eval()
    assert len(windows.first) == len(uid)  # one target per window
    with torch.no_grad():
        packed = model.states(windows.tokens, table(windows.tokens))[windows.owner, windows.slot]
        history = train_history(uid, item, runs, length)
        assert torch.allclose(packed, model(history, table(history)), atol=1e-5)


@pytest.mark.parametrize("heads", [1, 2])
def test_relative_sasrec_states_equal_the_model_on_each_interactions_window_prefix(heads) -> None:
    """Relative positions, two blocks: each packed state is the model run on its window up to
    the interaction's position (the windows of ``MEAN``: every target sees its last L items)."""
    torch.manual_seed(0)
    _uid, item, runs = sequences()
    length, table = 8, torch.nn.Embedding(40, 16, padding_idx=0)
    windows = UserWindows.build(item, runs, SASRec.data_needs({}).windows, length)
    model = SASRec(16, length, heads=heads).eval()
    assert windows.tokens.shape[1] == 2 * length - 1
    with torch.no_grad():
        packed = model.states(windows.tokens, table(windows.tokens))[windows.owner, windows.slot]
        for n, (w, p) in enumerate(zip(windows.owner.tolist(), windows.slot.tolist(), strict=True)):
            row = windows.tokens[w : w + 1, : p + 1]
            assert torch.allclose(packed[n], model(row, table(row))[0], atol=1e-5), n


def test_relative_sasrec_with_one_block_is_the_per_interaction_formulation() -> None:
    """One block reads the last L positions only: the packed state of every interaction is the
    state of its ``train_history`` row, the evaluation formulation."""
    torch.manual_seed(0)
    uid, item, runs = sequences()
    length, table = 8, torch.nn.Embedding(40, 16, padding_idx=0)
    windows = UserWindows.build(item, runs, SASRec.data_needs({}).windows, length)
    model = SASRec(16, length, blocks=1, heads=2).eval()
    with torch.no_grad():
        packed = model.states(windows.tokens, table(windows.tokens))[windows.owner, windows.slot]
        history = train_history(uid, item, runs, length)
        assert torch.allclose(packed, model(history, table(history)), atol=1e-5)


def test_sasrec_asks_windows_by_its_positions() -> None:
    assert SASRec.data_needs({}).windows == SequenceWindows(positional=False)
    absolute = SASRec.data_needs({"positions": "absolute", "min_context": 3}).windows
    assert absolute == SequenceWindows(positional=True, context=3)
    with pytest.raises(ConfigError, match=r"history\.min_context=3 applies to history\.positions"):
        SASRec.data_needs({"positions": "relative", "min_context": 3})


def test_a_packed_batch_gives_the_input_module_the_per_interaction_rows() -> None:
    """Through TrainSet.take and InputEmbedding: packed and row batches of the same interactions
    give the same input vectors (mean history, which is exact)."""
    data = prepare_tiny(history_length=2)
    rows = data.splits["train"]
    packed = prepare_tiny(history_length=2, windows=MEAN).splits["train"]
    assert packed.history is None and packed.windows is not None
    from mtfw.models.items import ItemEmbedding

    torch.manual_seed(0)
    items = ItemEmbedding(data.context.items, data.context.item_inputs, 4)
    spec: InputSpec = data.context.inputs
    module = InputEmbedding(spec, 4, MeanHistory(4, 2))
    index = torch.tensor([5, 0, 3, 8, 2])
    a, b = rows.take(index), packed.take(index)
    assert b.inputs.history_at is not None and len(b) == len(a) == 5
    assert torch.equal(a.inputs.candidates[:, 0], b.inputs.candidates[:, 0])
    with torch.no_grad():
        assert torch.allclose(module(a.inputs, items), module(b.inputs, items), atol=1e-6)


def test_packed_batches_cover_every_interaction_once_in_a_seeded_order() -> None:
    train = prepare_tiny(history_length=2, windows=SequenceWindows(True, 0)).splits["train"]

    def order(seed: int | None) -> list[int]:
        generator = None if seed is None else torch.Generator().manual_seed(seed)
        batches = list(train.batches(3, generator))
        assert [len(b) for b in batches[:-1]] == [3] * (len(batches) - 1)
        return [int(i) for b in batches for i in b.inputs.uid * 100 + b.inputs.candidates[:, 0]]

    rows = [int(u) * 100 + int(i) for u, i in zip(train.uid, train.item, strict=True)]
    assert order(None) == rows  # in order without a generator
    assert order(1) == order(1) and sorted(order(1)) == sorted(rows)
    assert any(order(s) != order(1) for s in range(2, 6))


def test_a_context_outside_the_window_is_refused() -> None:
    with pytest.raises(ConfigError, match=r"history.min_context=50 .* allowed 0 to 49"):
        geometry(SequenceWindows(positional=True, context=50), 50)


def test_with_one_target_per_window_the_batches_are_the_per_interaction_ones() -> None:
    """``min_context = L - 1``: the same shuffle, negatives and labels as one row per
    interaction, and each row's window is its history row, in the batch's order."""
    length = 3
    rows = prepare_tiny(history_length=length).splits["train"]
    spec = SequenceWindows(positional=True, context=length - 1)
    packed = prepare_tiny(history_length=length, windows=spec).splits["train"]
    pairs = zip(rows.batches(4, torch.Generator().manual_seed(3)),
                packed.batches(4, torch.Generator().manual_seed(3)), strict=True)  # fmt: skip
    for a, b in pairs:
        assert torch.equal(a.inputs.uid, b.inputs.uid)
        assert torch.equal(a.inputs.candidates, b.inputs.candidates)
        assert torch.equal(a.labels["next_categories"], b.labels["next_categories"])
        assert torch.equal(b.inputs.history, a.inputs.history)  # one window per row, in order
        assert torch.equal(b.inputs.history_at, torch.arange(len(a)) * length + length - 1)
