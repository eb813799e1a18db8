"""ESRGAN / Real-ESRGAN training at tiny sizes: the unsharp mask, the perceptual loss and the GAN losses against
independent NumPy evaluations; one step of each stage (the pixel loss on the sharpened ground truth, the EMA
update, the generator's loss as the sum of its terms), resume, and the EMA generator as the saved model."""

import os

import numpy as np
import pytest
import tensorflow as tf
from helpers import write_safetensors

from sr_tf import specs
from sr_tf.data.degradations import usm_sharpen
from sr_tf.losses import PerceptualLoss, bce_with_logits, ragan_discriminator, ragan_generator
from sr_tf.models import load_model
from sr_tf.models.realesrgan import TORCHVISION_VGG19_CONVS, unet_discriminator, vgg_style_discriminator
from sr_tf.specs.realesrgan import RECIPES
from sr_tf.train import RealEsrganTrainer, RealEsrnetTrainer

TINY_RRDB = dict(num_feat=8, num_block=1, num_grow_ch=4)


def _conv2d_same(x, kernel, bias):
    """NHWC 'same' convolution (zero padding) by summing shifted products."""
    kh, kw = kernel.shape[:2]
    padded = np.pad(x, [(0, 0), (kh // 2, kh // 2), (kw // 2, kw // 2), (0, 0)])
    out = np.zeros(x.shape[:3] + (kernel.shape[3],))
    for i in range(kh):
        for j in range(kw):
            out += np.einsum("bhwc,cd->bhwd", padded[:, i:i + x.shape[1], j:j + x.shape[2]], kernel[i, j])
    return out + bias


def test_usm_sharpen_is_basicsr_usm_in_numpy(rng):
    images = rng.uniform(0, 255, (2, 30, 28, 3))
    sigma = 0.3 * ((51 - 1) * 0.5 - 1) + 0.8  # OpenCV's sigma for 51 taps
    taps = np.exp(-((np.arange(51) - 25) ** 2) / (2 * sigma ** 2))
    kernel = np.outer(taps, taps) / taps.sum() ** 2

    def blur(x):
        padded = np.pad(x, [(0, 0), (25, 25), (25, 25), (0, 0)], mode="reflect")
        windows = np.lib.stride_tricks.sliding_window_view(padded, (51, 51), axis=(1, 2))
        return np.einsum("bhwcij,ij->bhwc", windows, kernel)

    residual = images - blur(images)
    soft = blur((np.abs(residual) > 10).astype(float))
    expected = soft * np.clip(images + 0.5 * residual, 0, 255) + (1 - soft) * images
    np.testing.assert_allclose(usm_sharpen(images).numpy(), expected, atol=2e-3)


def test_perceptual_loss_is_the_weighted_l1_of_pre_relu_vgg19_features(rng):
    loss = PerceptualLoss((("conv1_2", 0.1), ("conv2_2", 1.0)), weight=0.5, vgg_weights=None)
    x, y = rng.uniform(0, 255, (2, 8, 8, 3)), rng.uniform(0, 255, (2, 8, 8, 3))

    def features(images):  # caffe preprocessing, then VGG19's first two blocks with the model's weights
        h = images[..., ::-1] - np.array([103.939, 116.779, 123.68])
        weights = {name: loss.features.get_layer(name).get_weights() for name in
                   ("conv1_1", "conv1_2", "conv2_1", "conv2_2")}
        conv1_2 = _conv2d_same(np.maximum(_conv2d_same(h, *weights["conv1_1"]), 0), *weights["conv1_2"])
        h = np.maximum(conv1_2, 0).reshape(2, 4, 2, 4, 2, -1).max(axis=(2, 4))
        conv2_2 = _conv2d_same(np.maximum(_conv2d_same(h, *weights["conv2_1"]), 0), *weights["conv2_2"])
        return conv1_2, conv2_2

    (a1, a2), (b1, b2) = features(x), features(y)
    expected = 0.5 * (0.1 * np.abs(a1 - b1).mean(axis=(1, 2, 3)) + 1.0 * np.abs(a2 - b2).mean(axis=(1, 2, 3)))
    got = loss(tf.constant(x, tf.float32), tf.constant(y, tf.float32)).numpy()
    np.testing.assert_allclose(got, expected, rtol=1e-4)


def test_torchvision_vgg19_weights_are_mapped_and_normalized_as_the_authors_do(tmp_path, rng):
    shapes = [(64, 3), (64, 64), (128, 64), (128, 128)] + [(256, 128)] + [(256, 256)] * 3 + [(512, 256)] + \
             [(512, 512)] * 7
    state = {}
    for index, (out, inp) in zip(TORCHVISION_VGG19_CONVS, shapes):
        state[f"features.{index}.weight"] = rng.standard_normal((out, inp, 3, 3)).astype("float32") * 0.05
        state[f"features.{index}.bias"] = rng.standard_normal(out).astype("float32")
    loss = PerceptualLoss((("conv1_1", 1.0),), vgg_weights=write_safetensors(tmp_path / "vgg19.safetensors", state))
    assert loss.preprocessing == "torch"
    kernel, bias = loss.features.get_layer("conv1_1").get_weights()
    np.testing.assert_array_equal(kernel, state["features.0.weight"].transpose(2, 3, 1, 0))
    image = rng.uniform(0, 255, (1, 4, 4, 3))
    normalized = (image / 255 - [0.485, 0.456, 0.406]) / [0.229, 0.224, 0.225]
    np.testing.assert_allclose(loss.preprocess(tf.constant(image, tf.float32)).numpy(), normalized,
                               rtol=1e-5, atol=1e-6)


def test_gan_losses_match_their_definitions(rng):
    real, fake = rng.standard_normal((4, 3, 3, 1)), rng.standard_normal((4, 3, 3, 1))

    def bce(logits, label):  # -[y log s(x) + (1 - y) log(1 - s(x))], per example
        s = 1 / (1 + np.exp(-logits))
        return -(label * np.log(s) + (1 - label) * np.log(1 - s)).mean(axis=(1, 2, 3))

    np.testing.assert_allclose(bce_with_logits(real, True).numpy(), bce(real, 1), rtol=1e-5)
    np.testing.assert_allclose(bce_with_logits(fake, False).numpy(), bce(fake, 0), rtol=1e-5)
    np.testing.assert_allclose(ragan_generator(real, fake).numpy(),
                               0.5 * (bce(real - fake.mean(), 0) + bce(fake - real.mean(), 1)), rtol=1e-5)
    np.testing.assert_allclose(ragan_discriminator(real, fake).numpy(),
                               0.5 * (bce(real - fake.mean(), 1) + bce(fake - real.mean(), 0)), rtol=1e-5)


def _batch(rng, n=2, hr=32, scale=4):
    hr_images = rng.integers(0, 256, (n, hr, hr, 3)).astype("uint8")
    lr_images = rng.integers(0, 256, (n, hr // scale, hr // scale, 3)).astype("uint8")
    return lr_images, hr_images


def test_psnr_stage_step_uses_the_sharpened_ground_truth_and_moves_the_ema(tmp_path, rng):
    lr, hr = _batch(rng)
    generator = specs.RRDBNet(**TINY_RRDB).build()
    trainer = RealEsrnetTrainer(generator, str(tmp_path), learning_rate=1e-3)
    before = [w.numpy().copy() for w in generator.trainable_weights]
    expected_l1 = np.abs(usm_sharpen(hr).numpy() - generator(lr.astype("float32")).numpy()).mean() / 255
    logs = trainer.train(tf.data.Dataset.from_tensors((lr, hr)).repeat(), steps=1, evaluate_every=1)
    assert logs["l1"] == pytest.approx(expected_l1, rel=1e-4)
    decay = RECIPES["rrdb"].ema_decay
    for w0, w1, ema in zip(before, generator.trainable_weights, trainer.model.trainable_weights):
        np.testing.assert_allclose(ema.numpy(), decay * w0 + (1 - decay) * w1.numpy(), rtol=1e-5, atol=1e-7)
    assert trainer.model is trainer.models["generator_ema"]
    again = RealEsrnetTrainer(specs.RRDBNet(**TINY_RRDB).build(), str(tmp_path), learning_rate=1e-3)
    again.restore()
    assert int(again.step) == 1
    for a, b in zip(trainer.model.weights, again.model.weights):
        np.testing.assert_array_equal(a.numpy(), b.numpy())


@pytest.mark.parametrize("recipe", ["realesrgan", "esrgan"])
def test_gan_stage_step_sums_its_losses_and_resumes(recipe, tmp_path, rng):
    lr, hr = _batch(rng)
    perceptual = PerceptualLoss((("conv1_2", 0.1), ("conv2_2", 1.0)), vgg_weights=None)

    def build():
        discriminator = (unet_discriminator(num_feat=4) if recipe == "realesrgan" else
                         vgg_style_discriminator(num_feat=4, input_size=32))
        return RealEsrganTrainer(specs.RRDBNet(**TINY_RRDB).build(), discriminator, str(tmp_path),
                                 recipe=RECIPES[recipe], perceptual=perceptual)

    first = build()
    logs = first.train(tf.data.Dataset.from_tensors((lr, hr)).repeat(), steps=2, evaluate_every=2)
    assert logs["generator_loss"] == pytest.approx(logs["l1"] + logs["perceptual"] + logs["gan"], rel=1e-5)
    assert all(np.isfinite(v) and v > 0 for v in logs.values()), logs
    assert ("generator_ema" in first.models) == (recipe == "realesrgan")
    second = build()
    second.restore()
    assert int(second.step) == 2
    for name in first.models:
        for a, b in zip(first.models[name].weights, second.models[name].weights):
            np.testing.assert_array_equal(a.numpy(), b.numpy())
        if name in first.optimizers:
            assert int(second.optimizers[name].iterations) == 2


def test_the_esrgan_discriminator_has_basicsr_parameter_count():
    # VGGStyleDiscriminator128(3, 64), counted layer by layer from BasicSR's discriminator_arch.py: ten
    # convolutions (the first with a bias), nine batch normalizations, linear 8192 -> 100 -> 1.
    model = vgg_style_discriminator()
    assert sum(int(np.prod(w.shape)) for w in model.trainable_weights) == 14_499_401


def test_rrdb_command_saves_the_ema_generator(tmp_path):
    from sr_tf.cli import srgan as srgan_cli

    args = ["rrdb", "--data", "samples", "--steps", "2", "--evaluate-every", "2",
            "--batch-size", "2", "--hr-crop-size", "32", "--num-feat", "8", "--num-block", "1", "--num-grow-ch", "4",
            "--checkpoint-dir", str(tmp_path / "ckpt"), "--weights-dir", str(tmp_path / "out")]
    assert srgan_cli.main(args) == 0
    saved = load_model(str(tmp_path / "out" / "realesrnet-x4-num-feat-8-num-block-1-num-grow-ch-4.keras"))
    assert saved.spec == specs.RRDBNet(**TINY_RRDB)
    restored = RealEsrnetTrainer(specs.RRDBNet(**TINY_RRDB).build(), str(tmp_path / "ckpt"))
    restored.restore()
    assert int(restored.step) == 2
    for w, ema in zip(saved.weights, restored.models["generator_ema"].weights):
        np.testing.assert_array_equal(w.numpy(), ema.numpy())
    assert any(not np.array_equal(w.numpy(), g.numpy()) for w, g in zip(saved.weights, restored.generator.weights))
    assert os.path.exists(tmp_path / "out" / "realesrnet-x4-num-feat-8-num-block-1-num-grow-ch-4.weights.h5")

