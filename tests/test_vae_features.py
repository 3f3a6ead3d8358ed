"""VAE latent features (``features.vae``): fitted on train only, seeded, and for a user without
interactions a function of that user's features alone."""

from __future__ import annotations

import pytest
import torch
from recsys_support import prepare_tiny, tiny_frames

from mtfw.data.split import SplitSpec
from mtfw.features import VaeFeatures
from mtfw.features.vae import FeatureVae, fit_latent_features
from mtfw.models.latent import LatentEncoder

COLD = SplitSpec(by="cold_start", val=0.25, test=0.25, seed=1)
SMALL = VaeFeatures(side="both", latent=4, hidden=[8], epochs=5, batch_size=2, seed=3)


def latent_of_test_users(frames=None) -> tuple[torch.Tensor, torch.Tensor]:
    data = prepare_tiny(frames, split=COLD)
    encoders = fit_latent_features(SMALL, data)
    test = data.splits["test"]
    return test.users.uid, encoders["user"](test.users.cat, test.users.num)


def test_a_cold_start_users_vector_depends_on_that_users_features_only() -> None:
    uids, before = latent_of_test_users()
    assert len(uids) == 1
    user = ["u1", "u2", "u3", "u4"][int(uids[0]) - 1]
    others = tiny_frames()  # every other user's data changed: the VAE sees only train users
    val_user = prepare_tiny(split=COLD).splits["val"].users.uid.tolist()[0]
    val_name = ["u1", "u2", "u3", "u4"][val_user - 1]
    others.users.loc[val_name, ["age", "gender"]] = [77.0, "M" if others.users.loc[val_name,
                                                     "gender"] == "F" else "F"]  # fmt: skip
    inter = others.interactions
    others.interactions.loc[inter["user"] == val_name, "item"] = "i3"
    assert torch.equal(latent_of_test_users(others)[1], before)  # bit-identical
    mine = tiny_frames()
    mine.users.loc[user, "age"] = mine.users.loc[user, "age"] + 20.0
    assert not torch.allclose(latent_of_test_users(mine)[1], before)


def test_the_vector_ignores_the_rest_of_the_batch_and_the_users_history() -> None:
    data = prepare_tiny(split=SplitSpec(by="time"))
    encoder = fit_latent_features(SMALL, data)["user"]
    users = data.context.users
    alone = encoder(users.cat[1:2], users.num[1:2])
    together = encoder(users.cat[1:], users.num[1:])
    assert torch.allclose(together[:1], alone)
    swapped = encoder(users.cat[[1, 3, 2]], users.num[[1, 3, 2]])
    assert torch.equal(swapped[0], together[0])


def test_the_encoder_is_the_vaes_mean_with_the_interaction_part_masked() -> None:
    torch.manual_seed(0)
    vae = FeatureVae(n_features=5, n_interactions=7, hidden=[6, 4], latent=3)
    encoder = LatentEncoder([0, 1], [2, 2], 1, [5, 6, 4, 3])
    encoder.load_layers(vae.mean_layers())
    cat, num = torch.tensor([[1, 0], [0, 1]]), torch.tensor([[0.5], [-1.0]])
    x = torch.cat([encoder.features(cat, num), torch.zeros(2, 7)], dim=1)
    assert encoder.features(cat, num).tolist() == [[0, 1, 1, 0, 0.5], [1, 0, 0, 1, -1.0]]
    assert torch.allclose(encoder(cat, num), vae.encode(x)[0])


def test_fitting_is_seeded_and_leaves_the_global_random_state_alone() -> None:
    data = prepare_tiny()
    state = torch.random.get_rng_state()
    first = fit_latent_features(SMALL, data)
    assert torch.equal(torch.random.get_rng_state(), state)
    again = fit_latent_features(SMALL, prepare_tiny())
    for side in ("user", "item"):
        pairs = zip(
            first[side].state_dict().values(), again[side].state_dict().values(), strict=True
        )
        assert all(torch.equal(a, b) for a, b in pairs)
    other = fit_latent_features(VaeFeatures(**{**SMALL.__dict__, "seed": 4}), prepare_tiny())
    assert not torch.equal(other["user"].weight0, first["user"].weight0)


def test_a_side_without_features_is_refused() -> None:
    frames = tiny_frames()
    frames = type(frames)(**{**frames.__dict__, "item_numeric": []})
    frames.items = frames.items.drop(columns=["year"])
    with pytest.raises(Exception, match="items of this data have no features"):
        fit_latent_features(VaeFeatures(side="item", epochs=1), prepare_tiny(frames))


def test_the_item_embedding_adds_each_items_projected_latent_mean() -> None:
    from mtfw.models.items import ItemEmbedding

    data = prepare_tiny()
    encoder = fit_latent_features(VaeFeatures(**{**SMALL.__dict__, "side": "item"}), data)["item"]
    context = data.context
    torch.manual_seed(0)
    plain = ItemEmbedding(context.items, context.item_inputs, 8)
    torch.manual_seed(0)
    with_vae = ItemEmbedding(context.items, context.item_inputs, 8, encoder)
    index = torch.tensor([[1, 2, 2, 0], [6, 1, 5, 5]])
    items = context.items
    want = with_vae.latent_project(encoder(items.cat[index.flatten()], items.num[index.flatten()]))
    want = want.reshape(2, 4, 8) * (index > 0).unsqueeze(-1)
    assert torch.allclose(with_vae(index) - plain(index), want, atol=1e-6)
