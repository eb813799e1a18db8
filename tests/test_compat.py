"""Files written before the package's layout changed (tests/data/before_the_move, see its README) still load:
`.keras` models in safe mode, legacy `.h5` weights by layer order, and both agree with each other."""

import os

import keras
import numpy as np
import pytest
from data.record_outputs import compat_inputs

from sr_tf import load_weights
from sr_tf.models import edsr, fastgan, pixelcnn, srgan, wdsr

DATA = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data", "before_the_move")

# The architectures make.py built (the legacy .h5 files hold weights only).
BUILDERS = {
    "edsr": lambda: edsr.edsr(2, num_filters=8, num_res_blocks=1),
    "wdsr": lambda: wdsr.wdsr_b(2, num_filters=8, num_res_blocks=1),
    "srgan": lambda: srgan.generator(num_filters=8, num_res_blocks=1),
    "pixelcnn": lambda: pixelcnn.pixelcnn((6, 6, 3), num_res_blocks=1, hidden=6, levels=4),
    "gated": lambda: pixelcnn.gated_pixelcnn((6, 6, 1), num_layers=1, hidden=4, levels=4, num_classes=3),
    "fastgan": lambda: fastgan.generator(64, ngf=4, nz=8),
}


_inputs = compat_inputs


def assert_computes_what_it_computed(folder, name, model):
    """`model` (loaded today) gives, on `compat_inputs(name)`, the output the commit that wrote the file gave
    (recorded by tests/data/record_outputs.py in the folder's outputs.npz)."""
    recorded = np.load(os.path.join(folder, "outputs.npz"))[name]
    got = np.asarray(keras.tree.flatten(model(compat_inputs(name), training=False))[0])
    np.testing.assert_allclose(got, recorded, rtol=1e-5, atol=1e-4)


def _unfused(cls):
    from sr_tf.layers import FusedBatchNormalization

    return keras.layers.BatchNormalization if cls is FusedBatchNormalization else cls


@pytest.mark.parametrize("name", ["edsr", "wdsr", "pixelcnn", "gated", "fastgan"])
def test_keras_files_written_before_the_move_load_in_safe_mode(name):
    loaded = keras.saving.load_model(os.path.join(DATA, f"{name}.keras"), safe_mode=True)
    fresh = BUILDERS[name]()
    # this package's layer classes (files written before FusedBatchNormalization hold Keras's, its base class)
    assert [type(a) for a in loaded.layers] == [_unfused(type(b)) for b in fresh.layers]
    fresh.set_weights(loaded.get_weights())
    x = _inputs(name)
    for a, b in zip(keras.tree.flatten(loaded(x, training=False)), keras.tree.flatten(fresh(x, training=False))):
        if name != "fastgan":  # the generator's noise injection draws at every call
            np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=1e-5, atol=1e-4)
        assert a.shape == b.shape
    if name != "fastgan":
        assert_computes_what_it_computed(DATA, name, loaded)


@pytest.mark.parametrize("name", ["edsr", "wdsr"])
def test_legacy_h5_written_before_the_move_matches_the_keras_file_of_the_same_model(name):
    from_keras = keras.saving.load_model(os.path.join(DATA, f"{name}.keras"), safe_mode=True)
    from_h5 = BUILDERS[name]()
    load_weights(from_h5, os.path.join(DATA, f"{name}_legacy.h5"))
    assert_computes_what_it_computed(DATA, name, from_h5)  # the legacy file holds the .keras file's weights
    x = _inputs(name)
    np.testing.assert_allclose(from_h5(x).numpy(), from_keras(x).numpy(), rtol=1e-5, atol=1e-3)
    from_keras_weights = from_keras.get_weights()
    assert all(np.array_equal(a, b) for a, b in zip(from_h5.get_weights(), from_keras_weights))


def test_legacy_srgan_h5_written_before_the_move_loads_with_keras_load_weights():
    model = BUILDERS["srgan"]()
    before = [w.copy() for w in model.get_weights()]
    model.load_weights(os.path.join(DATA, "srgan_legacy.h5"))
    assert any(not np.array_equal(a, b) for a, b in zip(before, model.get_weights()))
    assert model(_inputs("srgan")).shape == (1, 20, 24, 3)


SPECS_DATA = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data", "before_the_specs")
# What tests/data/before_the_specs/make.py built, as specs (the files carry none: they predate specs).
BEFORE_THE_SPECS = {
    "edsr": ("edsr", dict(scale=2, num_filters=8, num_res_blocks=2)),
    "wdsr": ("wdsr", dict(scale=3, num_filters=8, num_res_blocks=1, wdsr_type="a")),
    "srresnet": ("srresnet", dict(scale=2, num_filters=8, num_res_blocks=1)),
    "pixelcnn": ("pixelcnn", dict(input_shape=(6, 6, 3), num_res_blocks=1, hidden=6, levels=4,
                                  head="logistic_mixture", num_mixtures=2)),
    "gated": ("gated_pixelcnn", dict(input_shape=(6, 6, 1), num_layers=2, hidden=4, levels=4, num_classes=3)),
    "fastgan": ("fastgan", dict(im_size=64, ngf=4, nz=8)),
}


@pytest.mark.parametrize("name", sorted(BEFORE_THE_SPECS))
def test_keras_files_written_before_the_specs_load_with_their_spec(name):
    from sr_tf import models, specs

    family, arguments = BEFORE_THE_SPECS[name]
    path = os.path.join(SPECS_DATA, f"{name}.keras")
    assert "spec" not in keras.saving.load_model(path, safe_mode=True).get_config()  # written without one
    loaded = models.load_model(path)
    expected = specs.architecture(family, **arguments)
    assert loaded.spec == expected
    fresh = expected.build()
    fresh.set_weights(loaded.get_weights())
    assert [w.shape for w in fresh.weights] == [w.shape for w in loaded.weights]
    if name != "fastgan":
        assert_computes_what_it_computed(SPECS_DATA, name, loaded)
        assert_computes_what_it_computed(SPECS_DATA, name, fresh)


def test_a_checkpoint_written_before_the_specs_resumes(tmp_path):
    import shutil

    from sr_tf.train import EdsrTrainer

    folder = str(tmp_path / "checkpoint")
    shutil.copytree(os.path.join(SPECS_DATA, "edsr_checkpoint"), folder)
    model = edsr.edsr(2, num_filters=8, num_res_blocks=2)
    trainer = EdsrTrainer(model, folder, learning_rate=1e-4)
    trainer.restore()
    assert int(trainer.step.numpy()) == 1
    saved = keras.saving.load_model(os.path.join(SPECS_DATA, "edsr.keras"), safe_mode=True)  # the weights before
    assert any(not np.array_equal(a, b) for a, b in zip(model.get_weights(), saved.get_weights()))  # one step on


def test_resolve_needs_no_flags_for_a_keras_file_written_before_the_specs(tmp_path, rng):
    from helpers import random_image, write_png

    from sr_tf.cli import resolve as resolve_cli

    photo = write_png(str(tmp_path / "p.png"), random_image(rng, 5, 7))
    assert resolve_cli.main([photo, "-o", str(tmp_path / "out"), "--weights",
                             os.path.join(SPECS_DATA, "wdsr.keras")]) == 0
    from PIL import Image

    assert Image.open(tmp_path / "out" / "p.png").size == (21, 15)


def test_export_needs_no_flags_for_keras_files_of_every_family(tmp_path, capsys):
    """`python -m sr_tf.export --weights X.keras` reads the family and architecture from the file (here files
    written before the specs, whose spec comes from their layers): a super-resolution model and a FastGAN
    generator export; a PixelCNN is refused in one line that says why."""
    from process_helpers import assert_one_line_errors

    from sr_tf.cli import export as export_cli

    for name in ("edsr", "fastgan"):
        output = str(tmp_path / f"{name}.tflite")
        assert export_cli.main(["--weights", os.path.join(SPECS_DATA, f"{name}.keras"), "-o", output]) == 0
        assert os.path.getsize(output) > 0
    capsys.readouterr()
    assert_one_line_errors(export_cli.main, [(["--weights", os.path.join(SPECS_DATA, "pixelcnn.keras"), "-o",
                                               str(tmp_path / "p.tflite")], "holds a pixelcnn model")], capsys)
