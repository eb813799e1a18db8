"""The in-graph step loop: call sizes, exact boundaries, equality with one step per call, the strategy options."""

import numpy as np
import pytest
import tensorflow as tf
from helpers import block_mean

from sr_tf.cli import srgan as srgan_cli
from sr_tf.errors import UserInputError
from sr_tf.models import edsr
from sr_tf.train import EdsrTrainer
from sr_tf.train.distribute import check_global_batch, make_strategy, worker_lost
from sr_tf.train.loop import AUTO_MAX_STEPS, StepSchedule, check_steps_per_execution


def test_call_sizes_end_at_every_period_and_the_last_step():
    schedule = StepSchedule(7)
    sizes, step = [], 0
    while step < 23:
        sizes.append(schedule.next_size(step, 23, [10, 4, 0]))
        step += sizes[-1]
    assert sizes == [4, 4, 2, 2, 4, 4, 3]  # ends at 4, 8, 10, 12, 16, 20, 23
    assert StepSchedule(1).next_size(5, 100, [10]) == 1


def test_auto_doubles_short_calls_halves_long_ones_and_ignores_cut_calls():
    schedule = StepSchedule("auto")
    assert schedule.size == 1
    schedule.record(1, 0.01)
    assert schedule.size == 2
    schedule.record(1, 0.01)  # a call cut short by a boundary says nothing about the size
    assert schedule.size == 2
    schedule.record(2, 0.15)  # within a factor 2 of the 0.2 s target: kept
    assert schedule.size == 2
    schedule.record(2, 1.0)
    assert schedule.size == 1
    for _ in range(20):
        schedule.record(schedule.size, 0.0)
    assert schedule.size == AUTO_MAX_STEPS
    agreed = StepSchedule("auto", agree=lambda seconds: 1.0)  # the workers' mean decides, not this one's time
    agreed.record(1, 0.0)
    assert agreed.size == 1


@pytest.mark.parametrize("value", [0, -1, 2.5, "fast", True, None])
def test_bad_steps_per_execution_is_named(value):
    with pytest.raises(UserInputError, match="steps_per_execution"):
        check_steps_per_execution(value)


class CountingTrainer(EdsrTrainer):
    """Records the steps at which evaluations happen."""

    def __init__(self, *args, **kwargs):
        self.evaluated = []
        super().__init__(*args, **kwargs)

    def score(self, dataset):
        self.evaluated.append(int(self.step.numpy()))
        return super().score(dataset)


def _batches(rng, n=6):
    hr = rng.integers(0, 256, (n, 4, 16, 16, 3)).astype(np.uint8)
    lr = np.round(block_mean(hr, 2)).astype(np.uint8)
    return tf.data.Dataset.from_tensor_slices((lr, hr)).repeat()


@pytest.mark.parametrize("steps_per_execution", [4, "auto"])
def test_many_steps_per_call_equal_one_step_per_call(tmp_path, rng, steps_per_execution):
    data, valid = _batches(rng), _batches(rng).take(1)
    runs, initial = {}, edsr.edsr(2, num_filters=4, num_res_blocks=1).get_weights()
    for name, spe in [("one", 1), ("many", steps_per_execution)]:
        model = edsr.edsr(2, num_filters=4, num_res_blocks=1)
        model.set_weights(initial)
        trainer = CountingTrainer(model, str(tmp_path / name), learning_rate=1e-3, steps_per_execution=spe,
                                  log_every=3)
        logs = trainer.train(data, valid, steps=11, evaluate_every=5)
        runs[name] = (model, trainer, logs)
    (one, one_trainer, one_logs), (many, many_trainer, many_logs) = runs["one"], runs["many"]
    for a, b in zip(one.get_weights(), many.get_weights()):  # the loop's graph may fuse ops differently
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)
    assert one_logs == pytest.approx(many_logs, rel=1e-6)
    assert one_trainer.evaluated == many_trainer.evaluated == [5, 10, 11]
    assert [int(p.rsplit("-", 1)[1]) for p in many_trainer.manager.checkpoints] == [5, 10, 11]
    assert int(many_trainer.step.numpy()) == 11


def test_a_finite_training_set_ends_training_with_a_checkpoint(tmp_path, rng, capsys):
    trainer = EdsrTrainer(edsr.edsr(2, num_filters=4, num_res_blocks=1), str(tmp_path), steps_per_execution=4)
    trainer.train(_batches(rng).take(6), steps=100, evaluate_every=50)
    assert int(trainer.step.numpy()) == 6 and "ran out at step 6" in capsys.readouterr().out
    assert trainer.manager.latest_checkpoint.endswith("-6")


def test_strategy_names_and_batch_split(monkeypatch):
    assert make_strategy("one") is tf.distribute.get_strategy()
    mirrored = make_strategy("mirrored")  # the two logical CPUs of the test process (conftest)
    assert isinstance(mirrored, tf.distribute.MirroredStrategy) and mirrored.num_replicas_in_sync == 2
    with pytest.raises(UserInputError, match="multiple of 2. Received: batch_size=5"):
        check_global_batch(5, mirrored)
    check_global_batch(6, mirrored)
    monkeypatch.delenv("TF_CONFIG", raising=False)
    with pytest.raises(UserInputError, match="TF_CONFIG unset"):
        make_strategy("multiworker")
    monkeypatch.setenv("TF_CONFIG", "{cluster")
    with pytest.raises(UserInputError, match="not JSON"):
        make_strategy("multiworker")
    monkeypatch.setenv("TF_CONFIG", '{"cluster": {}}')
    with pytest.raises(UserInputError, match="must hold"):
        make_strategy("multiworker")
    with pytest.raises(UserInputError, match="Unknown strategy"):
        make_strategy("tpu")


def test_worker_lost_message_names_the_step_and_the_folder():
    error = worker_lost(tf.errors.UnavailableError(None, None, "peer gone\nmore"), 40, "ckpt")
    assert str(error).startswith("Another worker stopped or stopped answering after step 40 (UnavailableError: "
                                 "peer gone)") and "ckpt" in str(error)


def test_train_srgan_mirrored_equals_one_device_through_the_command_line(tmp_path, capsys):
    common = ["edsr", "--data", "samples", "--scale", "2", "--num-filters", "4", "--num-res-blocks", "1",
              "--batch-size", "4", "--steps", "3", "--evaluate-every", "3"]
    weights = {}
    for strategy in ("one", "mirrored"):
        path = str(tmp_path / f"{strategy}.h5")
        assert srgan_cli.main([*common, "--strategy", strategy, "--checkpoint-dir", str(tmp_path / strategy),
                               "--weights-out", path]) == 0
        weights[strategy] = path
    models = {}
    for strategy, path in weights.items():
        models[strategy] = edsr.edsr(2, num_filters=4, num_res_blocks=1)
        models[strategy].load_weights(path)
    for a, b in zip(models["one"].get_weights(), models["mirrored"].get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    assert srgan_cli.main([*common, "--strategy", "mirrored", "--batch-size", "3",
                           "--checkpoint-dir", str(tmp_path / "odd")]) == 2
    assert "multiple of 2. Received: batch_size=3" in capsys.readouterr().err
