"""The TF2 SRGAN tutorial's own code, run as written with only its imports changed (`model.srgan` ->
`sr_tf.models.srgan`, `train` -> `sr_tf.train`, `data` -> `sr_tf.data`, `model`/`utils` -> `sr_tf`), on tiny
models, the bundled photos instead of DIV2K and random VGG weights instead of ImageNet's. Every `.h5` it writes
must load in an independent Keras-2 reader (helpers.read_keras2_file)."""

import os
import traceback

import keras
import numpy as np
import pytest
from helpers import offline
from model_helpers import read_keras2_file

import sr_tf.models.srgan as srgan_module
from sr_tf.data import ImageFolder
from sr_tf.data.io import sample_files

PHOTOS = sample_files(["astronaut.png", "coffee.png", "rocket.png", "chelsea.png"])


@pytest.fixture
def tutorial(tmp_path, monkeypatch):
    """Runs in a fresh folder (the tutorial writes .ckpt/ and weights/ where it runs), with a random-weights VGG19
    standing in for the ImageNet one, and the bundled photos standing in for DIV2K."""
    monkeypatch.chdir(tmp_path)
    real_vgg_54 = srgan_module.vgg_54
    monkeypatch.setattr(srgan_module, "vgg_54", lambda weights="imagenet": real_vgg_54(weights=None))
    keras.utils.set_random_seed(0)
    train = ImageFolder(PHOTOS[:3], scale=4, crop_to_scale=True)
    valid = ImageFolder(PHOTOS[3:], scale=4, crop_to_scale=True)
    train_ds = train.dataset(batch_size=2, random_transform=True)  # the tutorial: batch_size=16
    valid_ds = valid.dataset(batch_size=1, random_transform=False, repeat_count=1)
    return train_ds, valid_ds


def _check_keras2(builder, path):
    """The file loads in the Keras-2 reader and gives the weights Keras 3 reads from it."""
    via_keras2, via_keras3 = builder(), builder()
    assert read_keras2_file(via_keras2, path) > 0
    via_keras3.load_weights(path)
    for a, b in zip(via_keras2.get_weights(), via_keras3.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_srgan_pretraining_then_gan_fine_tuning(tutorial):
    train_ds, valid_ds = tutorial
    # --- the tutorial's example-srgan code, imports changed, sizes tiny, steps few ---
    from sr_tf.models.srgan import discriminator, generator
    from sr_tf.train import SrganGeneratorTrainer, SrganTrainer

    weights_dir = "weights/srgan"
    weights_file = lambda filename: os.path.join(weights_dir, filename)  # noqa: E731 - as the tutorial writes it
    os.makedirs(weights_dir, exist_ok=True)

    pre_trainer = SrganGeneratorTrainer(model=generator(num_filters=4, num_res_blocks=1),
                                        checkpoint_dir=".ckpt/pre_generator")
    pre_trainer.train(train_ds, valid_ds.take(10), steps=2, evaluate_every=1, save_best_only=False)
    pre_trainer.model.save_weights(weights_file("pre_generator.h5"))

    gan_generator = generator(num_filters=4, num_res_blocks=1)
    gan_generator.load_weights(weights_file("pre_generator.h5"))
    gan_trainer = SrganTrainer(generator=gan_generator, discriminator=discriminator(num_filters=4))
    gan_trainer.train(train_ds, steps=2)
    gan_trainer.generator.save_weights(weights_file("gan_generator.h5"))
    gan_trainer.discriminator.save_weights(weights_file("gan_discriminator.h5"))
    # --- end of the tutorial's code ---
    pre_trained = generator(num_filters=4, num_res_blocks=1)
    pre_trained.load_weights(weights_file("pre_generator.h5"))
    assert all(np.array_equal(a, b) for a, b in zip(pre_trained.get_weights(), pre_trainer.model.get_weights()))
    assert not np.array_equal(gan_generator.get_weights()[0], pre_trained.get_weights()[0])  # the GAN trained it
    # resumable, unlike the original; at the tutorial's sizes the folder is .ckpt/srgan, tiny ones are named
    assert os.path.isdir(".ckpt/srgan-num-filters-4-num-res-blocks-1") and os.path.isdir(".ckpt/pre_generator")
    _check_keras2(lambda: generator(num_filters=4, num_res_blocks=1), weights_file("pre_generator.h5"))
    _check_keras2(lambda: generator(num_filters=4, num_res_blocks=1), weights_file("gan_generator.h5"))
    _check_keras2(lambda: discriminator(num_filters=4), weights_file("gan_discriminator.h5"))
    assert not os.path.exists(".weights.h5") and not [f for f in os.listdir(weights_dir) if f.startswith(".tmp")]


@pytest.mark.parametrize("recipe", ["edsr", "wdsr"])
def test_edsr_and_wdsr_recipes(tutorial, recipe, capsys, monkeypatch):
    """The tutorial's code as it stands; the validation scores are scripted (20, 25, 22) so that the best is not
    the last, and the weights at each evaluation are kept: `restore()` must bring back the best one's."""
    from sr_tf.train.sr import SuperResolutionTrainer

    train_ds, valid_ds = tutorial
    depth, scale = 1, 4
    scripted, seen = [20.0, 25.0, 22.0], []

    real_score = SuperResolutionTrainer.score

    def scripted_score(self, dataset):  # the three evaluations of train(); then the tutorial's own evaluate()
        if len(seen) == len(scripted):
            return real_score(self, dataset)
        seen.append(self.model.get_weights())
        return scripted[len(seen) - 1]

    monkeypatch.setattr(SuperResolutionTrainer, "score", scripted_score)
    if recipe == "edsr":
        # --- the tutorial's example-edsr code ---
        from sr_tf.models.edsr import edsr
        from sr_tf.train import EdsrTrainer

        weights_dir = f"weights/edsr-{depth}-x{scale}"
        weights_file = os.path.join(weights_dir, "weights.h5")
        os.makedirs(weights_dir, exist_ok=True)
        trainer = EdsrTrainer(model=edsr(scale=scale, num_res_blocks=depth, num_filters=4),
                              checkpoint_dir=f".ckpt/edsr-{depth}-x{scale}")
    else:
        # --- the tutorial's example-wdsr code ---
        from sr_tf.models.wdsr import wdsr_b
        from sr_tf.train import WdsrTrainer

        weights_dir = f"weights/wdsr-b-{depth}-x{scale}"
        weights_file = os.path.join(weights_dir, "weights.h5")
        os.makedirs(weights_dir, exist_ok=True)
        trainer = WdsrTrainer(model=wdsr_b(scale=scale, num_res_blocks=depth, num_filters=4),
                              checkpoint_dir=f".ckpt/wdsr-b-{depth}-x{scale}")
    trainer.train(train_ds, valid_ds.take(10), steps=3, evaluate_every=1, save_best_only=True)
    trainer.restore()
    psnr = trainer.evaluate(valid_ds)
    print(f"PSNR = {psnr.numpy():3f}")
    trainer.model.save_weights(weights_file)
    # --- end of the tutorial's code ---
    printed = float(capsys.readouterr().out.split("PSNR = ")[1].split()[0])
    assert np.isfinite(printed) and len(seen) == 3 and float(trainer.best_score.numpy()) == 25.0
    restored = trainer.model.get_weights()
    for a, b in zip(restored, seen[1]):  # restore() gave the best (step 2), not the last (step 3)
        np.testing.assert_array_equal(a, b)
    assert any(not np.array_equal(a, b) for a, b in zip(restored, seen[2]))
    builder = (lambda: edsr(scale=scale, num_res_blocks=depth, num_filters=4)) if recipe == "edsr" else \
        (lambda: wdsr_b(scale=scale, num_res_blocks=depth, num_filters=4))
    _check_keras2(builder, weights_file)


def test_inference_snippet(tutorial, tmp_path):
    from sr_tf.models.edsr import edsr

    trained = edsr(scale=4, num_res_blocks=1, num_filters=4)
    os.makedirs("weights/edsr-16-x4", exist_ok=True)
    trained.save_weights("weights/edsr-16-x4/weights.h5")
    # --- the tutorial's README: model -> sr_tf, utils -> sr_tf ---
    from sr_tf import load_image, plot_sample, resolve_single
    from sr_tf.models.edsr import edsr

    model = edsr(scale=4, num_res_blocks=1, num_filters=4)  # the tutorial: num_res_blocks=16
    model.load_weights("weights/edsr-16-x4/weights.h5")

    lr = load_image(PHOTOS[3])
    sr = resolve_single(model, lr)

    plot_sample(lr, sr)
    # --- end of the tutorial's code ---
    import matplotlib.pyplot as plt

    figure = plt.gcf()
    titles = [axis.get_title() for axis in figure.axes]
    assert titles == ["LR", "SR (x4)"] and sr.shape == (lr.shape[0] * 4, lr.shape[1] * 4, 3)
    np.testing.assert_array_equal(figure.axes[1].get_images()[0].get_array(), sr)
    np.testing.assert_array_equal(resolve_single(trained, lr), sr)  # the .h5 round trip kept every weight
    plt.close("all")


def test_plot_without_matplotlib_names_the_extra(monkeypatch):
    import sys

    from sr_tf import plot_sample
    from sr_tf.errors import MissingExtraError

    monkeypatch.setitem(sys.modules, "matplotlib", None)
    monkeypatch.setitem(sys.modules, "matplotlib.pyplot", None)
    with pytest.raises(MissingExtraError, match=r"'plot' extra: pip install -e \"\.\[plot\]\"") as info:
        plot_sample(np.zeros((2, 2, 3), np.uint8), np.zeros((8, 8, 3), np.uint8))
    assert "\n" not in str(info.value) and isinstance(info.value, ImportError)


def test_offline_srgan_trainer_fails_with_one_line_that_says_what_to_do(tmp_path, monkeypatch):
    from sr_tf.models.srgan import discriminator, generator
    from sr_tf.train import SrganTrainer

    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(keras.applications, "VGG19", offline)
    with pytest.raises(RuntimeError) as info:
        SrganTrainer(generator=generator(num_filters=4, num_res_blocks=1), discriminator=discriminator(num_filters=4))
    message = str(info.value)
    assert "\n" not in message and "vgg_weights=PATH" in message
    assert "https://storage.googleapis.com/tensorflow/keras-applications/vgg19/" in message
    shown = "".join(traceback.format_exception(info.value))
    assert "During handling" not in shown and "direct cause" not in shown  # no network traceback attached
