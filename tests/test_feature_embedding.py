"""FeatureEmbedding's table lookup: ``index_select`` (fast backward on the CPU) gives what
``nn.Embedding`` gives, values and gradients, for any number of fields, zero included; a sparse
table (``optim.sparse_embeddings``) keeps its sparse gradients."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from mtfw.models.embedding import FeatureEmbedding, lookup


@pytest.mark.parametrize("fields", [0, 1, 5])
def test_the_lookup_equals_the_embedding_in_values_and_gradients(fields):
    torch.manual_seed(0)
    table = nn.Embedding(40, 6)
    ids = torch.randint(0, 40, (257, fields))
    ours, theirs = lookup(table, ids), table(ids)
    assert ours.shape == theirs.shape == (257, fields, 6)
    assert torch.equal(ours, theirs)
    weights = torch.randn(257, fields, 6)
    (grad_ours,) = torch.autograd.grad((ours * weights).sum(), table.weight)
    (grad_theirs,) = torch.autograd.grad((theirs * weights).sum(), table.weight)
    assert torch.equal(grad_ours, grad_theirs)


def test_a_sparse_table_keeps_its_sparse_gradient():
    table = nn.Embedding(40, 6, sparse=True)
    lookup(table, torch.tensor([[1, 2], [2, 3]])).sum().backward()
    assert table.weight.grad.is_sparse
    assert sorted(table.weight.grad.coalesce().indices()[0].tolist()) == [1, 2, 3]


def test_a_table_of_no_categorical_field_embeds_the_numbers_alone():
    emb = FeatureEmbedding([], 3, dim=4)
    out = emb(torch.zeros(5, 0, dtype=torch.long), torch.randn(5, 3))
    assert out.shape == (5, 3)
