"""Checkpoint helpers the tests share: a spy on what trainers write, and checks that a restore
brought back the saved step and weights."""

import numpy as np


def spy_checkpoints(monkeypatch):
    """Records every trainer's weights (all its models, in order) when it saves a periodic checkpoint, by step,
    and when it restores one, as (step, weights): a test can then assert that a resumed run restored exactly what
    the earlier run saved. Returns (saved {step: [arrays]}, restored [(step, [arrays])])."""
    from sr_tf.train.trainer import Trainer

    saved, restored = {}, []
    save, restore = Trainer.save, Trainer.restore

    def weights(trainer):
        return [np.array(w.numpy()) for model in trainer.models.values() for w in model.weights]

    def spy_save(self, best=False):
        path = save(self, best)
        if not best:
            saved[int(self.step.numpy())] = weights(self)
        return path

    def spy_restore(self):
        path = restore(self)
        if path is not None:
            restored.append((int(self.step.numpy()), weights(self)))
        return path

    monkeypatch.setattr(Trainer, "save", spy_save)
    monkeypatch.setattr(Trainer, "restore", spy_restore)
    return saved, restored


def assert_restored(saved, restored, step):
    """The last restore was at `step` and gave exactly the weights saved at that step."""
    assert restored and restored[-1][0] == step, [s for s, _ in restored]
    assert len(restored[-1][1]) == len(saved[step])
    for a, b in zip(restored[-1][1], saved[step]):
        np.testing.assert_array_equal(a, b)


def assert_weights_in_checkpoint(arrays, checkpoint_dir):
    """Every array of `arrays` (a model's weights, as written to a file) equals a variable of the latest
    checkpoint in `checkpoint_dir` (optimizer slots aside), and they are not all zero: the file holds what the
    checkpoint restored."""
    import tensorflow as tf

    reader = tf.train.load_checkpoint(str(checkpoint_dir))
    saved = [reader.get_tensor(name) for name, _ in tf.train.list_variables(str(checkpoint_dir))
             if "OPTIMIZER_SLOT" not in name and not name.startswith(("save_counter", "_CHECKPOINTABLE"))]
    arrays = [np.asarray(a) for a in arrays]
    assert arrays and any(np.abs(a).sum() > 0 for a in arrays)
    for a in arrays:
        assert any(a.shape == b.shape and np.array_equal(a, b) for b in saved), a.shape
