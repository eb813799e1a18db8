"""RRDBNet, SRVGGNetCompact and the U-Net discriminator (sr_tf.models.realesrgan): exact properties beyond the
preset cases of test_presets.py (which check build, round trips, one fit step and the published parameter
counts)."""

import keras
import numpy as np
import pytest

from sr_tf import models
from sr_tf.errors import UserInputError
from sr_tf.models.realesrgan import unet_discriminator


def test_srvgg_with_a_zero_last_convolution_is_nearest_upsampling(rng):
    """The network adds its output to the nearest-upsampled input: with the last convolution zeroed, the model is
    exactly nearest upsampling (the 0..1 scaling inside cancels)."""
    model = models.build("srvgg", scale=3, num_feat=4, num_conv=1)
    last = model.get_layer("conv_last")
    last.set_weights([np.zeros_like(w) for w in last.get_weights()])
    lr = rng.uniform(0, 255, (1, 5, 4, 3)).astype("float32")
    expected = np.repeat(np.repeat(lr, 3, axis=1), 3, axis=2)
    np.testing.assert_allclose(model(lr).numpy(), expected, rtol=1e-6, atol=1e-4)


@pytest.mark.parametrize("scale", [1, 2, 4])
def test_rrdbnet_upscales_by_its_scale_through_unshuffle_and_two_nearest_steps(scale, rng):
    model = models.build("rrdbnet", scale=scale, num_feat=4, num_block=1, num_grow_ch=2)
    assert model.spec.scale == scale
    assert any(layer.name == "pixel_unshuffle" for layer in model.layers) == (scale < 4)
    assert model(rng.uniform(0, 255, (1, 8, 12, 3)).astype("float32")).shape == (1, 8 * scale, 12 * scale, 3)


def test_rrdbnet_residual_scaling(rng):
    """With every dense block's last convolution zeroed, a dense block returns its input (0 * 0.2 + x) and an
    RRDB 1.2 times it (x * 0.2 + x), so two RRDBs give 1.44 times the first convolution's features, exactly what
    the residual wiring and scaling of the authors' code give."""
    model = models.build("rrdbnet", num_feat=4, num_block=2, num_grow_ch=2)
    for layer in model.layers:
        if layer.name.endswith("_conv5"):
            layer.set_weights([np.zeros_like(w) for w in layer.get_weights()])
    probe = keras.Model(model.input, [model.get_layer("conv_first").output, model.get_layer("rrdb2_add").output])
    first, trunk = probe(rng.uniform(0, 255, (1, 6, 5, 3)).astype("float32"))
    np.testing.assert_allclose(trunk.numpy(), 1.44 * first.numpy(), rtol=1e-5, atol=1e-6)
    assert np.abs(first.numpy()).max() > 0.01


def test_unet_discriminator_gives_a_logit_per_pixel_and_its_published_size(rng, tmp_path):
    d = unet_discriminator(num_feat=4)
    x = rng.uniform(0, 255, (2, 16, 24, 3)).astype("float32")
    assert d(x).shape == (2, 16, 24, 1)
    assert sum(int(np.prod(w.shape)) for w in unet_discriminator().trainable_weights) == 4_376_897
    path = str(tmp_path / "d.keras")
    d.save(path)
    np.testing.assert_allclose(keras.saving.load_model(path, safe_mode=True)(x).numpy(), d(x).numpy(), atol=1e-5)
    without = unet_discriminator(num_feat=4, skip_connection=False)
    assert not any(layer.name.startswith("skip") for layer in without.layers)


def test_bad_settings_are_one_line_errors():
    with pytest.raises(UserInputError, match="scale"):
        models.build("rrdbnet", scale=3)
    with pytest.raises(UserInputError, match="num_block=0"):
        models.build("rrdbnet", num_block=0)


@pytest.mark.parametrize("scale", [1, 2])
def test_rrdbnet_x2_x1_take_any_size_as_real_esrgan_does(scale, rng):
    """Sides that the pixel-unshuffle does not divide are padded by reflection and the output cropped back: the
    result equals running the padded image and cropping, as Real-ESRGAN's inference does."""
    model = models.build("rrdbnet", scale=scale, num_feat=4, num_block=1, num_grow_ch=2)
    lr = rng.uniform(0, 255, (1, 7, 5, 3)).astype("float32")
    m = 4 // scale
    padded = np.pad(lr, [(0, 0), (0, (-7) % m), (0, (-5) % m), (0, 0)], mode="reflect")
    expected = model(padded).numpy()[:, :7 * scale, :5 * scale]
    np.testing.assert_allclose(model(lr).numpy(), expected, rtol=1e-5, atol=1e-4)
