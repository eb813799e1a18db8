"""A new super-resolution family added the way ARCHITECTURE.md and CONTRIBUTING.md say, in this file alone and with
no edit to sr_tf: its spec (fields with their flags' help, scales, its train_srgan.py command), its builder, a
preset with its recipe, and how its PyTorch state dicts are recognised and converted. The test trains it a step
from the command line, resolves with what it wrote, exports it to TFLite, reads it from .weights.h5 with --model,
and imports a PyTorch-layout state dict, checked against a NumPy forward pass with PyTorch's semantics."""

import dataclasses
import os

import keras
import numpy as np
import pytest
from docs_runner import blocks
from helpers import random_image, write_png, write_safetensors

from sr_tf import specs
from sr_tf.cli import export as export_cli
from sr_tf.cli import resolve as resolve_cli
from sr_tf.cli import srgan as srgan_cli
from sr_tf.data import read_image
from sr_tf.inference import resolve_single
from sr_tf.layers import PixelShuffle
from sr_tf.models import from_pytorch, load_model
from sr_tf.models import pytorch as pytorch_format
from sr_tf.models.common import Model, with_spec
from sr_tf.specs.sr import SrArchitecture, SrRecipe
from sr_tf.weights_io import save_weights


@dataclasses.dataclass(frozen=True)
class ToySR(SrArchitecture):
    """Two 3x3 convolutions and a pixel shuffle, on images in 0..1."""

    family = "toysr"
    builder = f"{__name__}:toy_sr"
    scales = (2, 3)
    default_preset = "toysr-x2"
    commands = {"toysr": ("Toy SR training (L1)", "toysr-x2")}
    scale: int = specs.option(2, "upscaling factor")
    num_filters: int = specs.option(4, "filters of the first convolution")


def toy_sr(scale=ToySR.scale, num_filters=ToySR.num_filters):
    """The toy family's builder: RGB 0..255 in and out, as every super-resolution model of the package."""
    x_in = keras.Input((None, None, 3))
    x = keras.layers.Rescaling(1 / 255)(x_in)
    x = keras.layers.Conv2D(num_filters, 3, padding="same", activation="relu", name="conv_in")(x)
    x = keras.layers.Conv2D(3 * scale * scale, 3, padding="same", name="conv_out")(x)
    x = keras.layers.Rescaling(255.0)(PixelShuffle(scale)(x))
    return with_spec(Model(x_in, x, name="toysr"), ToySR(scale, num_filters))


def toy_architecture(state, path):
    return ToySR(scale=int(round((state["toy_out.weight"].shape[0] / 3) ** 0.5)),
                 num_filters=state["toy_in.weight"].shape[0])


def toy_convert(spec, layer_name, values):
    """The last convolution feeds a pixel shuffle: PyTorch orders its channels (channel, dy, dx)."""
    if layer_name == "conv_out":
        order = pytorch_format.shuffle_permutation(3, spec.scale)
        values = [values[0][..., order], values[1][order]]
    return values


TOY_FORMAT = pytorch_format.StateDictFormat(
    "toysr", detect=lambda state: "toy_in.weight" in state, architecture=toy_architecture,
    layers=lambda spec: {"conv_in": ("toy_in", ("weight", "bias")), "conv_out": ("toy_out", ("weight", "bias"))},
    convert=toy_convert)


@pytest.fixture
def toy_family():
    """Registers the family, its preset and its PyTorch format as a family module would at import; removes them."""
    specs.register_family(ToySR)
    specs.register_preset("toysr-x2", "toy x2", ToySR(), SrRecipe(2, 2, 1, 1e-3, run="toysr-x{scale}",
                                                                  weights_dir="weights/{run}"))
    pytorch_format.register(TOY_FORMAT)
    yield
    del specs.FAMILIES["toysr"], specs.PRESETS["toysr-x2"], pytorch_format.FORMATS["toysr"]


def torch_forward(state, image, scale):
    """The toy network as PyTorch computes it (NCHW convolutions, `pixel_shuffle`), in NumPy: RGB 0..255 in/out."""
    def conv(x, weight, bias):  # x (C, H, W), weight (out, in, 3, 3), zero padding 1
        padded = np.pad(x, ((0, 0), (1, 1), (1, 1)))
        h, w = x.shape[1:]
        out = np.zeros((weight.shape[0], h, w))
        for dy in range(3):
            for dx in range(3):
                out += np.einsum("oi,ihw->ohw", weight[:, :, dy, dx], padded[:, dy:dy + h, dx:dx + w])
        return out + bias[:, None, None]

    x = np.transpose(image.astype(np.float64) / 255, (2, 0, 1))
    x = conv(np.maximum(conv(x, state["toy_in.weight"], state["toy_in.bias"]), 0), state["toy_out.weight"],
             state["toy_out.bias"])
    c, h, w = x.shape[0] // scale ** 2, x.shape[1], x.shape[2]
    x = x.reshape(c, scale, scale, h, w).transpose(0, 3, 1, 4, 2).reshape(c, h * scale, w * scale)
    return np.transpose(x, (1, 2, 0)) * 255


def test_a_toy_family_trains_resolves_exports_and_imports_without_editing_sr_tf(toy_family, tmp_path, rng,
                                                                                 monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert "toysr" in srgan_cli.commands()
    status = srgan_cli.main(["toysr", "--data", "samples", "--num-filters", "3", "--steps", "1",
                             "--evaluate-every", "1", "--steps-per-execution", "1"])
    out = capsys.readouterr().out
    assert status == 0, out
    folder = os.path.join("weights", "toysr-x2-num-filters-3")  # the run's name shows the setting changed
    model = load_model(os.path.join(folder, "toysr-x2-num-filters-3.keras"))
    assert model.spec == ToySR(scale=2, num_filters=3)
    assert os.path.exists(os.path.join(".ckpt", "toysr-x2-num-filters-3", "checkpoint"))

    photo = str(write_png(tmp_path / "photo.png", random_image(rng, 7, 9)))
    image = read_image(photo)[0]
    assert resolve_cli.main([photo, "-o", "out", "--weights", model_path(folder), "--precision", "float32"]) == 0
    np.testing.assert_array_equal(read_image("out/photo.png")[0], resolve_single(model, image))

    assert export_cli.main(["--weights", model_path(folder), "--format", "tflite", "-o", "toy.tflite"]) == 0
    from sr_tf.deploy import TFLiteModel

    exported = TFLiteModel("toy.tflite")
    np.testing.assert_allclose(exported(image[None].astype(np.float32)), model(image[None].astype(np.float32)),
                               atol=1e-3)

    # Keras weights files carry no architecture: --model names the family (its flags and preset apply)
    save_weights(model, "toy.weights.h5")
    assert resolve_cli.main([photo, "-o", "out_h5", "--model", "toysr", "--num-filters", "3", "--weights",
                             "toy.weights.h5", "--precision", "float32"]) == 0
    np.testing.assert_array_equal(read_image("out_h5/photo.png")[0], read_image("out/photo.png")[0])


def model_path(folder):
    return os.path.join(folder, "toysr-x2-num-filters-3.keras")


def test_a_toy_family_reads_its_pytorch_state_dicts_as_pytorch_computes_them(toy_family, tmp_path, rng):
    scale, filters = 3, 5
    state = {"toy_in.weight": rng.normal(0, 0.3, (filters, 3, 3, 3)), "toy_in.bias": rng.normal(0, 0.1, filters),
             "toy_out.weight": rng.normal(0, 0.3, (3 * scale * scale, filters, 3, 3)),
             "toy_out.bias": rng.normal(0, 0.1, 3 * scale * scale)}
    state = {k: v.astype(np.float32) for k, v in state.items()}
    path = write_safetensors(tmp_path / "toy.safetensors", state)
    model = from_pytorch(path)
    assert model.spec == ToySR(scale=scale, num_filters=filters)  # detected from the state dict alone
    image = random_image(rng, 5, 6)
    expected = torch_forward(state, image, scale)
    np.testing.assert_allclose(model(image[None].astype(np.float32))[0], expected, atol=2e-3)
    # and every other family still detects its own
    assert pytorch_format.formats()[-1].family in specs.FAMILIES


def test_contributing_shows_the_toy_family_of_the_tests():
    """CONTRIBUTING.md's toy family blocks cannot run in its docs test (they would register a family for every test
    after them); every line of them is a line of this file, so they show what runs here."""
    ours = {line.strip() for line in open(__file__, encoding="utf8")}
    shown = [code for _, code, why in blocks("CONTRIBUTING.md") if why and "tests/test_toy_family.py" in why]
    assert len(shown) == 2
    missing = [line for code in shown for line in code.splitlines() if line.strip() not in ours]
    assert not missing, missing
