"""CFGAN (Chae, Kang, Kim, Lee, "CFGAN: A Generic Collaborative Filtering Framework based on
Generative Adversarial Networks", CIKM 2018), user-based: vector-wise adversarial training.

The generator ``G`` reads a user's condition vector ``c_u`` (the training purchase vector) and
outputs a real-valued purchase vector in ``[0, 1]`` over the catalogue (sigmoid layers). The
discriminator ``D`` tells the real ``(c_u, r_u)`` (``r_u = c_u``) from the generated
``(c_u, G(c_u) * m_u)``; a logit, trained with the binary cross-entropy. The mask ``m_u`` keeps
the purchased items (``e_u``) and, in the partial-masking schemes (``pm``, ``zp``), a share
``pm_ratio`` of the user's unpurchased items (``k_u``), so ``G`` must also put low values there
to look real. Zero reconstruction (``zr``, ``zp``) adds ``zr_coefficient`` (the paper's alpha) x
the squared output on a share ``zr_ratio`` of unpurchased items, pulled towards 0. Both samples
are drawn anew each epoch; one epoch is ``d_steps`` passes of D, then ``g_steps`` passes of G
over all users. Ranking a user's items by ``G(c_u)`` recommends: ``c_u`` holds the items known at
the cut (validation: train items; test: train + validation items). Defaults: the paper's
MovieLens-100K settings as its code and the ECIR 2022 re-evaluation (Pérez Maurera, Ferrari
Dacrema, Cremonesi) list them; the re-evaluation found tuned simple baselines beat CFGAN."""

from __future__ import annotations

from typing import Literal

import torch
from torch import Tensor, nn
from torch.nn.functional import binary_cross_entropy_with_logits as bce

from mtfw.baselines.base import Baseline, known
from mtfw.baselines.trained import EpochSelection, dense_layers, l2, user_batches
from mtfw.data.batch import Inputs
from mtfw.registry import register
from mtfw.value_types import Count, NonNegative, Positive, Share


def unpurchased_sample(purchased: Tensor, ratio: float, generator: torch.Generator) -> Tensor:
    """``[U, I]`` bool: for each user, ``floor(ratio * n_u)`` of the user's ``n_u`` unpurchased
    items (column 0, the padding item, excluded), uniformly without replacement; batched."""
    free = purchased == 0
    free[:, 0] = False
    count = (free.sum(1) * ratio).floor().long()  # [U]
    noise = torch.rand(purchased.shape, generator=generator).masked_fill(~free, 2.0)
    rank = noise.argsort(1).argsort(1)  # the unpurchased items first, in random order
    return rank < count[:, None]


def discriminator_loss(real_logit: Tensor, fake_logit: Tensor) -> Tensor:
    """``-mean log D(real) - mean log(1 - D(fake))``, from D's logits."""
    real = bce(real_logit, torch.ones_like(real_logit))
    return real + bce(fake_logit, torch.zeros_like(fake_logit))


def generator_loss(fake_logit: Tensor) -> Tensor:
    """``-mean log D(fake)``: the non-saturating adversarial loss of G."""
    return bce(fake_logit, torch.ones_like(fake_logit))


@register("baseline", "cfgan")
class CFGAN(Baseline):
    """CFGAN: a conditional generator of purchase vectors against a discriminator (ZR/PM).

    Zero-reconstruction and partial-masking schemes; epochs selected on validation."""

    def __init__(
        self,
        seed: int = 0,
        task_names: list[str] = (),
        scheme: Literal["zr", "pm", "zp"] = "zp",
        zr_ratio: Share = 0.7,
        pm_ratio: Share = 0.7,
        zr_coefficient: NonNegative = 0.1,
        g_hidden: list[Count] = (400,),
        d_hidden: list[Count] = (125,),
        g_lr: Positive = 1e-4,
        d_lr: Positive = 1e-4,
        g_reg: NonNegative = 1e-3,
        d_reg: NonNegative = 0.0,
        g_batch_size: Count = 32,
        d_batch_size: Count = 64,
        g_steps: Count = 4,
        d_steps: Count = 2,
        epochs: Count = 1000,
        eval_every: Count = 10,
        patience: Count = 10,
    ):
        super().__init__(seed, task_names)
        self.scheme, self.zr_ratio, self.pm_ratio = scheme, zr_ratio, pm_ratio
        self.zr_coefficient = zr_coefficient
        self.g_hidden, self.d_hidden = list(g_hidden), list(d_hidden)
        self.g_lr, self.d_lr, self.g_reg, self.d_reg = g_lr, d_lr, g_reg, d_reg
        self.g_batch_size, self.d_batch_size = g_batch_size, d_batch_size
        self.g_steps, self.d_steps, self.epochs = g_steps, d_steps, epochs
        self.eval_every, self.patience = eval_every, patience
        self.generator: nn.Module | None = None  # built by fit, or by load_state from baseline.pt
        self.discriminator: nn.Module | None = None

    def networks(self, n_items: int) -> tuple[nn.Module, nn.Module]:
        generator = dense_layers([n_items, *self.g_hidden, n_items], nn.Sigmoid, nn.Sigmoid())
        discriminator = dense_layers([2 * n_items, *self.d_hidden, 1], nn.Sigmoid)
        return generator, discriminator

    def masks(self, generator: torch.Generator) -> tuple[Tensor, Tensor]:
        """This epoch's ``[U, I]`` float masks: the items D sees of G's output (purchased, plus
        the PM sample) and the items zero reconstruction pulls to 0 (the ZR sample)."""
        shown, zero = self.matrix.clone(), torch.zeros_like(self.matrix)
        if self.scheme in ("pm", "zp"):
            shown = shown + unpurchased_sample(self.matrix, self.pm_ratio, generator).float()
        if self.scheme in ("zr", "zp"):
            zero = unpurchased_sample(self.matrix, self.zr_ratio, generator).float()
        return shown, zero

    def fit(self, data, validate=None) -> None:
        super().fit(data, validate)
        torch.manual_seed(self.seed)
        self.generator, self.discriminator = self.networks(self.n_items)
        g_opt = torch.optim.Adam(self.generator.parameters(), lr=self.g_lr)
        d_opt = torch.optim.Adam(self.discriminator.parameters(), lr=self.d_lr)
        users = torch.nonzero(self.matrix.sum(1) > 0)[:, 0]
        selection = EpochSelection(self.registry_name, self.state, validate, self.epochs,
                                   self.patience)  # fmt: skip
        sums = {"discriminator": 0.0, "generator": 0.0}
        counts = dict.fromkeys(sums, 0)

        def step(name: str, opt: torch.optim.Optimizer, loss: Tensor, epoch: int) -> None:
            selection.check_loss(name, loss, epoch)
            opt.zero_grad()
            loss.backward()
            opt.step()
            sums[name] += float(loss.detach())
            counts[name] += 1

        for epoch in range(1, self.epochs + 1):
            order = torch.Generator().manual_seed(self.seed * 100_003 + epoch)
            shown, zero = self.masks(order)
            for _ in range(self.d_steps):  # the discriminator first, then the generator
                for rows in user_batches(users, self.d_batch_size, order):
                    step("discriminator", d_opt, self.d_loss(self.matrix[rows], shown[rows]), epoch)
            for _ in range(self.g_steps):
                for rows in user_batches(users, self.g_batch_size, order):
                    loss = self.g_loss(self.matrix[rows], shown[rows], zero[rows])
                    step("generator", g_opt, loss, epoch)
            nets = {"generator": self.generator, "discriminator": self.discriminator}
            selection.check_parameters(nets, epoch)
            if epoch % self.eval_every and epoch != self.epochs:
                continue
            # the mean batch loss of each network since the last validation
            losses = {f"train/{k}/loss": v / max(counts[k], 1) for k, v in sums.items()}
            sums, counts = dict.fromkeys(sums, 0.0), dict.fromkeys(counts, 0)
            if selection.after_epoch(epoch, **losses):
                break
        self.load_state(selection.kept)

    def d_loss(self, c: Tensor, shown: Tensor) -> Tensor:
        with torch.no_grad():
            fake = self.generator(c) * shown
        real_logit = self.discriminator(torch.cat([c, c], 1))
        fake_logit = self.discriminator(torch.cat([c, fake], 1))
        penalty = self.d_reg * 0.5 * l2(self.discriminator) if self.d_reg else 0.0
        return discriminator_loss(real_logit, fake_logit) + penalty

    def g_loss(self, c: Tensor, shown: Tensor, zero: Tensor) -> Tensor:
        out = self.generator(c)
        g_loss = generator_loss(self.discriminator(torch.cat([c, out * shown], 1)))
        zr = (out.pow(2) * zero).sum(1).mean()  # 0 unless a ZR scheme sampled items
        return g_loss + self.zr_coefficient * zr + self.g_reg * 0.5 * l2(self.generator)

    def state(self) -> dict[str, Tensor]:
        nets = {"g": self.generator, "d": self.discriminator}
        return {"matrix": self.matrix, **{f"{p}.{k}": v.detach().clone() for p, net in nets.items()
                                          for k, v in net.state_dict().items()}}  # fmt: skip

    def load_state(self, state: dict[str, Tensor]) -> None:
        self.matrix, self.n_items = state["matrix"], state["matrix"].shape[1]
        if self.generator is None:  # a fitted model reloaded from baseline.pt
            self.generator, self.discriminator = self.networks(self.n_items)
        for prefix, net in (("g.", self.generator), ("d.", self.discriminator)):
            net.load_state_dict({k[2:]: v for k, v in state.items() if k.startswith(prefix)})

    @torch.no_grad()
    def score(self, inputs: Inputs) -> Tensor:
        return self.generator(known(inputs))
