"""Sequence-packed training: the training interactions as windows of each user's item sequence.

One row per interaction with its ``[L]`` history (``train_history``) makes each interaction pay
for a whole pass of the history encoder over ``L`` items. Packed, the encoder runs once per
*window* of a user's sequence, causally, and yields the user state at every position; each
interaction reads the state at its position, and the per-interaction part of the model (user
features, shared encoder, heads, item scoring with negatives, labels) runs on those gathered
states unchanged. A batch is still ``batch_size`` interactions (its windows are the ones that
serve them), so every task and weighting sees what it saw.

Layout. A user's training items ``s_1 .. s_n`` (time order) become the token sequence
``x = [0, s_1, .., s_{n-1}]``: position ``k`` holds the last item *before* interaction ``k``
(0 = empty), so the state after position ``k`` is the user just before interaction ``k``, and
interaction 0 reads the empty state. Windows are ``W`` consecutive positions of ``x``,
right-aligned (left-padded with 0), cut from the user's most recent item backwards: the newest
window ends at ``s_{n-1}`` in position ``W - 1``, exactly as the evaluation row (the last
``L`` known items, most recent last) puts it, and each older one ``S = W - C`` positions
earlier. Each window *owns* its last ``S`` positions (the oldest: those of them its user has),
so every interaction it serves sees at least ``C`` earlier positions of its window (padding
where its user has fewer items). Windows overlap by ``C``; every interaction is owned by
exactly one window, at one of its last ``S`` positions.

Geometry (``SequenceWindows``, asked by the history encoder):

- ``positional`` (SASRec with absolute positions, attention over the whole window):
  ``W = L``; ``C`` = ``context`` (default ``L // 2``). A target at position ``p`` (``C <= p <
  L``) has its most recent item at ``p`` rather than ``L - 1``: its state is the same model run
  on the window's first ``p + 1`` positions (``SASRec.forward`` of that prefix), and at the
  newest position of a window it is the per-interaction row's state. ``C = L - 1`` owns one
  target per window: exactly the per-interaction formulation, at its cost; ``C = L // 2`` runs
  about 2 positions per target instead of ``L``.
- not positional (a state depends on the items before it, not on where they sit: the mean of
  the last ``L`` items, SASRec with relative positions): ``C = L - 1``, ``W = 2L - 1``: every
  owned target has its last ``L`` items inside its window, so the sliding mean equals the mean
  over the ``train_history`` row exactly (up to float rounding), as does one relative SASRec
  block, for about 2 positions per target.

Shuffling: ``order`` permutes the windows with the epoch's seeded generator and lists their
owned interactions window by window; batches are consecutive slices of that order (a window
split by a batch boundary is run in both batches). Without a generator the order is the rows'
own (windows are stored by user, then time, and own consecutive rows).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor

from mtfw.data.needs import SequenceWindows
from mtfw.errors import ConfigError


def geometry(spec: SequenceWindows, length: int) -> tuple[int, int]:
    """``(W, C)``: positions per window and the earlier positions every owned target sees."""
    if not spec.positional:
        return 2 * length - 1, length - 1
    context = length // 2 if spec.context is None else spec.context
    if not 0 <= context < length:
        raise ConfigError(
            f"history.min_context={context} is out of range for data.history_length={length}: "
            f"allowed 0 to {length - 1}. Training windows are data.history_length items long and "
            "every target sees at least min_context earlier items of its window (null: half)"
        )
    return length, context


@dataclass
class UserWindows:
    """``tokens`` ``[Nw, W]`` the windows' items (0 = empty), stored by user then time; window
    ``w`` owns the interaction rows ``first[w] .. first[w] + count[w] - 1``; interaction ``n``
    reads position ``slot[n]`` of window ``owner[n]``."""

    tokens: Tensor
    owner: Tensor
    slot: Tensor
    first: Tensor
    count: Tensor

    @classmethod
    def build(
        cls, item: Tensor, runs: tuple[Tensor, Tensor], spec: SequenceWindows, length: int
    ) -> UserWindows:
        """From the training ``item`` column (rows sorted by user, then time) and its user
        runs (``sequences.user_runs``)."""
        width, context = geometry(spec, length)
        start, end = runs
        own = width - context  # targets per window (the oldest may have fewer)
        firsts = torch.unique_consecutive(start)
        n = torch.diff(torch.cat([firsts, end[-1:]]))  # interactions per user
        per_user = (n + own - 1).div(own, rounding_mode="floor")  # blocks of `own` targets
        user = torch.repeat_interleave(torch.arange(len(n)), per_user)
        before = torch.cumsum(per_user, 0) - per_user  # the user's first window
        back = per_user[user] - 1 - (torch.arange(len(user)) - before[user])  # 0: the newest
        last = n[user] - 1 - back * own  # the window's last position in x
        lo = (last - own + 1).clamp(min=0)  # its first owned position
        positions = last[:, None] - width + 1 + torch.arange(width)  # of x, per window slot
        rows = firsts[user][:, None] + positions - 1  # x[k] = item of the user's row k - 1
        tokens = torch.where(positions >= 1, item[rows.clamp(min=0)], 0)
        first, count = firsts[user] + lo, last - lo + 1
        owner = torch.repeat_interleave(torch.arange(len(first)), count)
        k = torch.arange(len(item)) - start  # each row's position in its user's x
        slot = k - last[owner] + width - 1
        return cls(tokens, owner, slot, first, count)

    @property
    def width(self) -> int:
        return self.tokens.shape[1]

    def order(self, generator: torch.Generator | None) -> Tensor | None:
        """The interactions window by window, the windows in an order drawn from ``generator``
        (None without one: the rows' own order)."""
        if generator is None:
            return None
        windows = torch.randperm(len(self.first), generator=generator).to(self.first.device)
        sizes = self.count[windows]
        offsets = torch.cumsum(sizes, 0) - sizes
        within = torch.arange(int(sizes.sum()), device=sizes.device)
        within = within - torch.repeat_interleave(offsets, sizes)
        return torch.repeat_interleave(self.first[windows], sizes) + within

    def gather(self, index: Tensor | slice) -> tuple[Tensor, Tensor]:
        """The windows that serve the interactions ``index`` ``[Wb, W]``, in the order the
        interactions first need them (with one target per window: the rows' order, so dropout
        masks fall as on rows), and where each interaction's state is in them: ``[B]`` indices
        into the flattened ``[Wb * W]``."""
        windows, local = torch.unique(self.owner[index], return_inverse=True)
        n = local.shape[0]
        first = torch.full_like(windows, n).scatter_reduce(
            0, local, torch.arange(n, device=local.device), "amin"
        )
        rank = torch.argsort(first)
        local = torch.argsort(rank)[local]
        return self.tokens[windows[rank]], local * self.width + self.slot[index]

    def to(self, device: torch.device) -> UserWindows:
        moved = (self.tokens, self.owner, self.slot, self.first, self.count)
        return UserWindows(*(t.to(device) for t in moved))
