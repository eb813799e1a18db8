"""Trainers: learning, best-only saving, resume (supervised and GAN), distribution, architecture checks."""

import warnings

import numpy as np
import pytest
import tensorflow as tf
from helpers import block_mean

from sr_tf import specs
from sr_tf.errors import UserInputError
from sr_tf.models import edsr, srgan
from sr_tf.train import ArchitectureMismatchError, EdsrTrainer, RealEsrnetTrainer, SrganGeneratorTrainer, SrganTrainer


def fixed_batch(rng, n=4, hr_size=16, scale=2):
    hr = rng.integers(0, 256, (n, hr_size, hr_size, 3)).astype(np.uint8)
    return np.round(block_mean(hr, scale)).astype(np.uint8), hr


def endless(batch):
    return tf.data.Dataset.from_tensors(batch).repeat()


def test_loss_falls_on_a_fixed_batch(tmp_path, rng):
    batch = fixed_batch(rng)
    trainer = EdsrTrainer(edsr.edsr(2, num_filters=8, num_res_blocks=1), str(tmp_path), learning_rate=1e-3)
    first = trainer.train(endless(batch), steps=1, evaluate_every=100)["loss"]
    last = trainer.train(endless(batch), steps=40, evaluate_every=100)["loss"]
    assert last < 0.85 * first


class ScriptedScores(EdsrTrainer):
    """An EdsrTrainer whose validation scores come from a list (the inputs of the best-checkpoint logic)."""

    scores = []

    def score(self, dataset):
        return self.scores.pop(0)


def test_save_best_only_keeps_the_best(tmp_path, rng):
    batch = fixed_batch(rng)
    trainer = ScriptedScores(edsr.edsr(2, num_filters=4, num_res_blocks=1), str(tmp_path), learning_rate=1e-3)
    ScriptedScores.scores = [20.0, 25.0, 22.0, 24.0]
    valid = tf.data.Dataset.from_tensors(batch)
    trainer.train(endless(batch), valid, steps=8, evaluate_every=2, save_best_only=True)
    assert float(trainer.best_score) == 25.0
    assert trainer.best_manager.latest_checkpoint.endswith("ckpt-4")
    assert trainer.manager.latest_checkpoint.endswith("ckpt-4")  # worse scores at steps 6 and 8 saved nothing
    weights_at_8 = [w.numpy() for w in trainer.model.weights]
    trainer.restore_best()
    assert int(trainer.step) == 4
    assert any(not np.array_equal(a, w.numpy()) for a, w in zip(weights_at_8, trainer.model.weights))


def test_a_new_trainer_resumes_step_optimizer_state_and_best_score(tmp_path, rng):
    batch = fixed_batch(rng)
    valid = tf.data.Dataset.from_tensors((batch[0][:2], batch[1][:2]))
    first = EdsrTrainer(edsr.edsr(2, num_filters=4, num_res_blocks=1), str(tmp_path), learning_rate=1e-3)
    initial = first.model.get_weights()
    first.train(endless(batch), valid, steps=6, evaluate_every=3)
    second = EdsrTrainer(edsr.edsr(2, num_filters=4, num_res_blocks=1), str(tmp_path), learning_rate=1e-3)
    assert int(second.step) == 0  # building a trainer reads no checkpoint; restore() does, or train() first
    assert second.restore().endswith("ckpt-6")
    assert int(second.step) == 6 and float(second.best_score) == float(first.best_score) > 0
    for a, b in zip(first.optimizers["model"].variables, second.optimizers["model"].variables):
        np.testing.assert_array_equal(a.numpy(), b.numpy())  # iterations and Adam moments
    for a, b in zip(first.model.weights, second.model.weights):
        np.testing.assert_array_equal(a.numpy(), b.numpy())
    # Continuing to 9 steps runs exactly 3 more, as one uninterrupted run of 9 steps would.
    second.train(endless(batch), valid, steps=9, evaluate_every=3)
    assert int(second.step) == 9 and int(second.optimizers["model"].iterations) == 9
    straight_model = edsr.edsr(2, num_filters=4, num_res_blocks=1)
    straight_model.set_weights(initial)
    straight = EdsrTrainer(straight_model, str(tmp_path / "straight"), learning_rate=1e-3)
    straight.train(endless(batch), valid, steps=9, evaluate_every=3)
    for a, b in zip(straight.model.weights, second.model.weights):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-5, atol=1e-7)


def test_workers_stop_on_their_vote_not_on_a_signal_that_lands_after_it(tmp_path, rng, monkeypatch):
    """A SIGTERM that reaches one worker just after the workers' stop vote must wait for the next vote: stopping
    on it at once leaves the other worker alone in the next step's collectives (seen in CI as a lost worker)."""
    import os
    import signal

    import sr_tf.train.distribute as distribute_module

    batch = fixed_batch(rng)
    trainer = EdsrTrainer(edsr.edsr(2, num_filters=4, num_res_blocks=1), str(tmp_path), learning_rate=1e-3,
                          steps_per_execution=1)
    votes = []

    def vote(strategy, value):  # this worker's peer has not been signalled: the vote is this worker's value
        votes.append((int(trainer.step), value))
        if len(votes) == 2:
            os.kill(os.getpid(), signal.SIGTERM)  # handled as the vote returns, before the loop decides
        return value

    monkeypatch.setattr(distribute_module, "mean_over_workers", vote)
    trainer.multi_worker = True
    trainer.train(endless(batch), steps=10, evaluate_every=100)
    assert trainer.interrupted == "SIGTERM"
    assert votes == [(1, 0.0), (2, 0.0), (3, 1.0)] and int(trainer.step) == 3


def test_srgan_trainer_checkpoints_everything_and_resumes(tmp_path, rng):
    batch = fixed_batch(rng, n=2, hr_size=16, scale=4)
    vgg = srgan.vgg_22(weights=None)

    def build():
        return SrganTrainer(srgan.generator(num_filters=4, num_res_blocks=1),
                            srgan.discriminator(num_filters=4, hr_size=16), str(tmp_path), vgg=vgg)

    first = build()
    logs = first.train(endless(batch), tf.data.Dataset.from_tensors(batch), steps=3, evaluate_every=3)
    assert {"perceptual_loss", "content_loss", "adversarial_loss", "discriminator_loss"} <= set(logs)
    assert logs["perceptual_loss"] == pytest.approx(logs["content_loss"] + 0.001 * logs["adversarial_loss"],
                                                    rel=1e-5)
    second = build()
    second.restore()
    assert int(second.step) == 3 and np.isfinite(float(second.best_score))
    for name in ("generator", "discriminator"):
        for a, b in zip(first.models[name].weights, second.models[name].weights):
            np.testing.assert_array_equal(a.numpy(), b.numpy())
        assert int(second.optimizers[name].iterations) == 3


def test_mirrored_strategy_matches_a_single_device(tmp_path, rng):
    batch = fixed_batch(rng, n=4)
    strategy = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])
    assert strategy.num_replicas_in_sync == 2
    with strategy.scope():
        mirrored_model = edsr.edsr(2, num_filters=4, num_res_blocks=1)
    single_model = edsr.edsr(2, num_filters=4, num_res_blocks=1)
    single_model.set_weights(mirrored_model.get_weights())
    mirrored = EdsrTrainer(mirrored_model, str(tmp_path / "m"), learning_rate=1e-3, strategy=strategy)
    single = EdsrTrainer(single_model, str(tmp_path / "s"), learning_rate=1e-3)
    mirrored_logs = mirrored.train(endless(batch), steps=3, evaluate_every=100)
    single_logs = single.train(endless(batch), steps=3, evaluate_every=100)
    assert mirrored_logs["loss"] == pytest.approx(single_logs["loss"], rel=1e-5)
    for a, b in zip(mirrored_model.weights, single_model.weights):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-5, atol=1e-6)
    with pytest.raises(ValueError, match="strategy's scope"):
        EdsrTrainer(edsr.edsr(2, num_filters=4, num_res_blocks=1), str(tmp_path / "x"), strategy=strategy)
    # Real-ESRNet's EMA generator under the same strategy (one MirroredStrategy per test process: a second one
    # would share collective instance keys with this one)
    lr, hr = fixed_batch(rng, n=4, hr_size=32, scale=4)
    with strategy.scope():
        mirrored_model = specs.RRDBNet(num_feat=8, num_block=1, num_grow_ch=4).build()
    single_model = specs.RRDBNet(num_feat=8, num_block=1, num_grow_ch=4).build()
    single_model.set_weights(mirrored_model.get_weights())
    data = endless((lr, hr))
    mirrored = RealEsrnetTrainer(mirrored_model, str(tmp_path / "rm"), learning_rate=1e-3, strategy=strategy)
    single = RealEsrnetTrainer(single_model, str(tmp_path / "rs"), learning_rate=1e-3)
    assert mirrored.train(data, steps=2, evaluate_every=100)["l1"] == pytest.approx(
        single.train(data, steps=2, evaluate_every=100)["l1"], rel=1e-5)
    for a, b in zip(mirrored.model.weights, single.model.weights):  # the EMA generators
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-5, atol=1e-6)


def test_jit_compiled_step_matches_the_plain_step(tmp_path, rng):
    batch = fixed_batch(rng)
    plain_model = edsr.edsr(2, num_filters=4, num_res_blocks=1)
    jit_model = edsr.edsr(2, num_filters=4, num_res_blocks=1)
    jit_model.set_weights(plain_model.get_weights())
    EdsrTrainer(plain_model, str(tmp_path / "p"), learning_rate=1e-3).train(endless(batch), steps=2,
                                                                            evaluate_every=100)
    EdsrTrainer(jit_model, str(tmp_path / "j"), learning_rate=1e-3, jit_compile=True).train(
        endless(batch), steps=2, evaluate_every=100)
    for a, b in zip(plain_model.weights, jit_model.weights):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-4, atol=1e-5)


def test_checkpoint_of_another_architecture_is_a_clear_error(tmp_path, rng):
    batch = fixed_batch(rng, scale=4)
    SrganGeneratorTrainer(srgan.generator(num_filters=4, num_res_blocks=1), str(tmp_path)).train(
        endless(batch), steps=1, evaluate_every=1)
    with pytest.raises(ArchitectureMismatchError, match=str(tmp_path)):
        SrganGeneratorTrainer(srgan.generator(num_filters=8, num_res_blocks=1), str(tmp_path)).restore()
    deeper = srgan.generator(num_filters=4, num_res_blocks=2)
    saved = len(srgan.generator(num_filters=4, num_res_blocks=1).weights)
    with pytest.raises(ArchitectureMismatchError, match=f"has {len(deeper.weights)} weights, the checkpoint {saved};"):
        SrganGeneratorTrainer(deeper, str(tmp_path)).restore()


def test_a_checkpoint_of_another_learning_rate_kind_is_named_not_called_damaged(tmp_path, rng):
    """Keras restores optimizer variables by position, and a fixed rate adds one that a schedule has not: such a
    checkpoint is intact, so the error says what differs, skips nothing, and the original settings still resume."""
    batch = fixed_batch(rng, scale=2)
    small = lambda: edsr.edsr(2, num_filters=4, num_res_blocks=1)  # noqa: E731
    for name, written, asked in (("fixed", 1e-4, None), ("schedule", None, 1e-4)):
        folder = str(tmp_path / name)
        EdsrTrainer(small(), folder, learning_rate=written).train(endless(batch), steps=2, evaluate_every=1)
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # no checkpoint is reported damaged
            with pytest.raises(UserInputError, match="a fixed learning rate against a schedule"):
                EdsrTrainer(small(), folder, learning_rate=asked).restore()
        resumed = EdsrTrainer(small(), folder, learning_rate=written)
        resumed.restore()
        assert int(resumed.step.numpy()) == 2
