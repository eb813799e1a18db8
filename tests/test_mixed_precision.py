"""A few mixed_float16 steps of every trainer on the CPU: loss scaling active, float32 outputs, finite losses,
weights that move, and a checkpoint that restores them exactly."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from sr_tf import specs
from sr_tf.losses import PerceptualLoss
from sr_tf.models import edsr, fastgan, pixelcnn, srgan
from sr_tf.models.realesrgan import unet_discriminator
from sr_tf.train import EdsrTrainer, FastGANTrainer, PixelCNNTrainer, RealEsrganTrainer, SrganTrainer


@pytest.fixture
def mixed_policy():
    keras.mixed_precision.set_global_policy("mixed_float16")
    try:
        yield
    finally:
        keras.mixed_precision.set_global_policy("float32")


def _sr_batch(rng, lr_size=4, scale=2):
    lr = rng.integers(0, 256, (2, lr_size, lr_size, 3)).astype("float32")
    hr = rng.integers(0, 256, (2, lr_size * scale, lr_size * scale, 3)).astype("float32")
    return tf.data.Dataset.from_tensors((lr, hr)).repeat()


CASES = {
    "edsr": lambda rng, d: (EdsrTrainer(edsr.edsr(2, num_filters=4, num_res_blocks=1), d, learning_rate=1e-3,
                                        mixed_precision=True), _sr_batch(rng)),
    "srgan": lambda rng, d: (SrganTrainer(srgan.generator(num_filters=4, num_res_blocks=1),
                                          srgan.discriminator(num_filters=4, hr_size=16), d, content_loss="VGG22",
                                          vgg=srgan.vgg_22(weights=None), mixed_precision=True),
                             _sr_batch(rng, lr_size=4, scale=4)),
    "realesrgan": lambda rng, d: (RealEsrganTrainer(specs.RRDBNet(num_feat=8, num_block=1, num_grow_ch=4).build(),
                                                    unet_discriminator(num_feat=4), d, mixed_precision=True,
                                                    perceptual=PerceptualLoss((("conv1_2", 1.0),), vgg_weights=None)),
                                  _sr_batch(rng, lr_size=8, scale=4)),
    "pixelcnn": lambda rng, d: (PixelCNNTrainer(pixelcnn.pixelcnn((6, 6, 1), num_res_blocks=1, hidden=4, levels=4),
                                                d, mixed_precision=True),
                                tf.data.Dataset.from_tensors(
                                    rng.integers(0, 4, (2, 6, 6, 1)).astype("uint8")).repeat()),
    "fastgan": lambda rng, d: (FastGANTrainer(fastgan.generator(64, ngf=4, nz=8),
                                              fastgan.discriminator(64, ndf=4, decoder_width=4), d, sample_every=0,
                                              mixed_precision=True),
                               tf.data.Dataset.from_tensors(rng.uniform(-1, 1, (2, 64, 64, 3)).astype("float32"))
                               .repeat()),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_mixed_float16_steps(name, mixed_policy, tmp_path):
    keras.utils.set_random_seed(0)
    rng = np.random.default_rng(0)
    trainer, dataset = CASES[name](rng, str(tmp_path))
    assert all(isinstance(o, keras.optimizers.LossScaleOptimizer) for o in trainer.optimizers.values())
    assert all(w.dtype == "float32" for w in trainer.model.weights)  # variables stay float32
    before = [w.numpy().copy() for w in trainer.model.trainable_weights]
    logs = trainer.train(dataset, steps=10, evaluate_every=10)  # the first steps may overflow and be skipped
    assert logs and all(np.isfinite(v) for v in logs.values()), logs
    assert any(not np.array_equal(b, w.numpy()) for b, w in zip(before, trainer.model.trainable_weights))
    assert all(o.dtype == "float32" for o in trainer.model.outputs)
    scale = float(next(iter(trainer.optimizers.values())).dynamic_scale.numpy())
    assert np.isfinite(scale) and scale > 1  # loss scaling is on
    again, _ = CASES[name](rng, str(tmp_path))
    again.restore()
    assert int(again.step.numpy()) == 10
    for a, b in zip(trainer.model.weights, again.model.weights):
        np.testing.assert_array_equal(a.numpy(), b.numpy())


def test_every_training_script_takes_mixed_precision_and_jit(tmp_path, monkeypatch):
    """Each script builds its trainer with the flags' settings (recorded as it builds it): loss scaling on,
    models computing in float16 with float32 variables, and XLA where --jit was given. The trainers are recorded,
    not run (tracing three steps would take half a minute): mixed-precision steps run in
    test_mixed_float16_steps, XLA steps in test_train.py, and the scripts' training in their own tests."""
    from helpers import random_image, write_png

    from sr_tf.train.trainer import Trainer

    built = []
    init = Trainer.__init__

    def recording_init(self, *args, **kwargs):
        init(self, *args, **kwargs)
        built.append((type(self).__name__, self))

    monkeypatch.setattr(Trainer, "__init__", recording_init)
    monkeypatch.setattr(Trainer, "train", lambda self, *args, **kwargs: {})

    from sr_tf.cli import fastgan as fastgan_cli
    from sr_tf.cli import pixelcnn as pixelcnn_cli
    from sr_tf.cli import srgan as srgan_cli

    rng = np.random.default_rng(0)
    for i in range(2):
        write_png(str(tmp_path / "imgs" / f"{i}.png"), random_image(rng, 96, 96))
    flags = ["--mixed-precision", "--jit"]
    try:
        assert srgan_cli.main(["edsr", "--scale", "2", "--hr-dir", str(tmp_path / "imgs"), "--steps", "2",
                               "--evaluate-every", "2", "--num-filters", "4", "--num-res-blocks", "1",
                               "--batch-size", "2", "--caches-dir", str(tmp_path / "caches"), "--checkpoint-dir",
                               str(tmp_path / "sr"), "--weights-out",
                               str(tmp_path / "sr.h5"), *flags]) == 0
        assert pixelcnn_cli.main(["train", "--dataset", "digits", "--levels", "4", "--num-res-blocks", "1",
                                  "--hidden", "4", "--steps", "2", "--evaluate-every", "2", "--batch-size", "8",
                                  "--checkpoint-dir", str(tmp_path / "px"), "--weights-dir", str(tmp_path / "pxw"),
                                  *flags]) == 0
        assert fastgan_cli.main(["train", "--path", str(tmp_path / "imgs"), "--im-size", "64", "--steps", "2",
                                 "--batch-size", "2", "--ngf", "4", "--ndf", "4", "--nz", "8", "--decoder-width", "4",
                                 "--sample-every", "0", "--evaluate-every", "2", "--checkpoint-dir",
                                 str(tmp_path / "gan"), "--weights-dir", str(tmp_path / "ganw"),
                                 *flags]) == 0
    finally:
        keras.mixed_precision.set_global_policy("float32")
    assert [name for name, _ in built] == ["PixelLossTrainer", "PixelCNNTrainer", "FastGANTrainer"]
    for name, trainer in built:
        assert trainer.jit_compile, name
        assert all(isinstance(o, keras.optimizers.LossScaleOptimizer) for o in trainer.optimizers.values()), name
        for model in trainer.models.values():
            assert model.dtype_policy.name == "mixed_float16" or any(
                layer.dtype_policy.name == "mixed_float16" for layer in model.layers), (name, model.name)
            assert all(w.dtype == "float32" for w in model.weights), (name, model.name)
    assert (tmp_path / "sr.h5").exists()
    assert (tmp_path / "pxw" / "pixelcnn-digits-4-num-res-blocks-1-hidden-4.keras").exists()
    assert (tmp_path / "ganw" / "fastgan-imgs-64-ngf-4-ndf-4-nz-8-decoder-width-4-generator.keras").exists()
