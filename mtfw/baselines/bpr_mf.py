"""Matrix factorisation trained with BPR (Rendle et al., "BPR: Bayesian Personalized Ranking
from Implicit Feedback", UAI 2009): score(u, i) = <p_u, q_i> + b_i, trained so that each
interacted item outscores sampled negatives, ln sigmoid(x_ui - x_uj), with L2 regularisation.
The epoch is selected on validation, like every trained model here."""

from __future__ import annotations

import copy

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from mtfw.baselines.base import Baseline
from mtfw.data.batch import Inputs
from mtfw.registry import register

FACTORS = ("user_factors", "item_factors", "item_bias")  # what fit learns


@register("baseline", "bpr_mf")
class BPRMF(Baseline):
    """Matrix factorisation with the BPR loss (model-based CF); epochs selected on validation."""

    def __init__(
        self,
        seed: int = 0,
        task_names: list[str] = (),
        dim: int = 64,
        epochs: int = 30,
        lr: float = 0.01,
        reg: float = 1e-4,
        batch_size: int = 2048,
        patience: int = 3,
    ):
        super().__init__(seed, task_names)
        self.dim, self.epochs, self.lr, self.reg = dim, epochs, lr, reg
        self.batch_size, self.patience = batch_size, patience

    def fit(self, data, validate=None) -> None:
        super().fit(data, validate)
        train = data.splits["train"]
        torch.manual_seed(self.seed)
        model = nn.ModuleDict(
            {
                "user": nn.Embedding(self.matrix.shape[0], self.dim),
                "item": nn.Embedding(self.n_items, self.dim),
                "bias": nn.Embedding(self.n_items, 1),
            }
        )
        for table in model.values():
            nn.init.normal_(table.weight, std=0.01)
        opt = torch.optim.Adam(model.parameters(), lr=self.lr)
        best, best_state, bad = None, None, 0
        for epoch in range(self.epochs):
            order = torch.Generator().manual_seed(self.seed * 100_003 + epoch)
            for batch in train.batches(self.batch_size, order):
                user = model["user"](batch.inputs.uid)  # [B, d]
                candidates = batch.inputs.candidates  # [B, C]: positive, then negatives
                items = model["item"](candidates)  # [B, C, d]
                score = torch.einsum("bd,bcd->bc", user, items) + model["bias"](candidates)[..., 0]
                loss = -F.logsigmoid(score[:, :1] - score[:, 1:]).mean()
                loss = loss + self.reg * (user.pow(2).sum() + items.pow(2).sum()) / len(batch)
                opt.zero_grad()
                loss.backward()
                opt.step()
            self._take(model)
            last = epoch + 1 == self.epochs
            value = validate(epoch + 1, last) if validate is not None else epoch  # none: the last
            if best is None or value > best:
                best, best_state, bad = value, copy.deepcopy(self.state()), 0
            else:
                bad += 1
                if bad >= self.patience:
                    break
        self.load_state(best_state)

    def _take(self, model: nn.ModuleDict) -> None:
        self.load_state({"matrix": self.matrix, "user_factors": model["user"].weight,
                         "item_factors": model["item"].weight,
                         "item_bias": model["bias"].weight[:, 0]})  # fmt: skip

    def load_state(self, state: dict[str, Tensor]) -> None:
        super().load_state({"matrix": state["matrix"]})
        for key in FACTORS:  # frozen parameters: counted in the run's n_parameters
            setattr(self, key, nn.Parameter(state[key].detach().clone(), requires_grad=False))

    def state(self) -> dict[str, Tensor]:
        return {"matrix": self.matrix, **{key: getattr(self, key).detach() for key in FACTORS}}

    def item_vectors(self) -> Tensor:
        return self.item_factors

    def score(self, inputs: Inputs) -> Tensor:
        users = self.user_factors[inputs.uid.cpu()]
        return users @ self.item_factors.T + self.item_bias
