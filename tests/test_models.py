"""Model builders: parameter counts against the reference, shapes, serialization, weight normalization."""

import keras
import numpy as np
import pytest
from helpers import offline
from model_helpers import keras_round_trip

from sr_tf.errors import UserInputError
from sr_tf.layers import WeightNormConv2D
from sr_tf.models import build_sr_model, edsr, srgan, wdsr


def test_full_size_parameter_counts_match_the_reference():
    gen = srgan.generator()
    assert gen.count_params() == 1_554_883
    assert sum(int(np.prod(w.shape)) for w in gen.trainable_weights) == 1_550_659
    assert srgan.discriminator().count_params() == 23_569_217
    assert edsr.edsr(4, num_res_blocks=16).count_params() == 1_517_571
    assert srgan.sr_resnet is srgan.generator


@pytest.mark.parametrize("scale", [2, 3, 4, 8])
def test_edsr_and_wdsr_upscale_by_every_scale(scale):
    x = np.zeros((1, 5, 7, 3), "float32")
    for model in (edsr.edsr(scale, num_filters=4, num_res_blocks=1, res_block_scaling=0.1),
                  wdsr.wdsr_a(scale, num_filters=4, num_res_blocks=1),
                  wdsr.wdsr_b(scale, num_filters=4, num_res_blocks=1)):
        assert model(x).shape == (1, 5 * scale, 7 * scale, 3)


def test_srgan_generator_at_x2_and_x8_adds_or_drops_one_upsampling_stage():
    """The reference's x4 count minus / plus one stage: conv 3x3 64 -> 256 with bias, and a PReLU shared over
    H and W (64 slopes); x4 keeps the tutorial's layer order (up1, up2, then tail_conv)."""
    stage = 3 * 3 * 64 * 256 + 256 + 64
    assert srgan.generator(scale=2).count_params() == 1_554_883 - stage
    assert srgan.generator(scale=8).count_params() == 1_554_883 + stage
    assert [layer.name for layer in srgan.generator(4, 1).layers][-6:] == [
        "up1_prelu", "up2_conv", "up2_shuffle", "up2_prelu", "tail_conv", "denormalize_m11"]
    x = np.zeros((1, 5, 7, 3), "float32")
    for scale in (2, 4, 8):
        model = build_sr_model("srgan", scale=scale, num_filters=4, num_res_blocks=1)
        assert model(x).shape == (1, 5 * scale, 7 * scale, 3)
    with pytest.raises(UserInputError, match="x2, x4 or x8.*Received: scale=3"):
        build_sr_model("srgan", scale=3)


def test_srgan_shapes():
    gen = srgan.generator(num_filters=4, num_res_blocks=1)
    assert gen(np.zeros((2, 6, 5, 3), "float32")).shape == (2, 24, 20, 3)
    disc = srgan.discriminator(num_filters=4, hr_size=32)
    out = disc(np.zeros((3, 32, 32, 3), "float32")).numpy()
    assert out.shape == (3, 1) and np.all((out >= 0) & (out <= 1))


@pytest.mark.parametrize("call", [
    lambda: edsr.edsr(5), lambda: edsr.edsr(4, num_filters=0), lambda: wdsr.wdsr_b(6),
    lambda: srgan.discriminator(hr_size=90), lambda: build_sr_model("srgan", scale=3),
    lambda: build_sr_model("vdsr"),
])
def test_bad_arguments_are_clear_errors(call):
    with pytest.raises(ValueError, match="Received"):
        call()


def _tiny_models():
    return [srgan.generator(num_filters=4, num_res_blocks=1), srgan.discriminator(num_filters=4, hr_size=16),
            edsr.edsr(3, num_filters=4, num_res_blocks=1, res_block_scaling=0.5),
            wdsr.wdsr_a(2, num_filters=4, num_res_blocks=1, res_block_scaling=0.5),
            wdsr.wdsr_b(4, num_filters=4, num_res_blocks=1)]


def test_every_model_round_trips_as_keras_in_safe_mode(tmp_path, rng):
    for model in _tiny_models():
        assert not any(type(layer).__name__ == "Lambda" for layer in model.layers)
        shape = (2, *(model.input_shape[1:3] if model.input_shape[1] else (9, 7)), 3)
        x = rng.uniform(0, 255, shape).astype("float32")
        loaded = keras_round_trip(model, tmp_path)
        np.testing.assert_array_equal(model(x).numpy(), loaded(x).numpy())
        assert len(loaded.weights) == len(model.weights)


def test_weight_norm_conv_starts_as_plain_conv_and_is_scale_invariant(rng):
    x = rng.normal(size=(1, 6, 6, 3)).astype("float32")
    wn = WeightNormConv2D(5, 3, padding="same")
    plain = keras.layers.Conv2D(5, 3, padding="same")
    wn.build(x.shape)
    plain.build(x.shape)
    plain.set_weights([wn.kernel.numpy(), rng.normal(size=5).astype("float32")])
    wn.bias.assign(plain.bias)
    np.testing.assert_allclose(wn(x), plain(x), atol=1e-5)
    # The direction v / ||v|| is all that matters: scaling the kernel changes nothing.
    before = wn(x).numpy()
    wn.kernel.assign(wn.kernel * 7.0)
    np.testing.assert_allclose(wn(x), before, atol=1e-5)
    # g sets each output channel's kernel norm: doubling g doubles the convolution (bias removed).
    wn.bias.assign(np.zeros(5, "float32"))
    base = wn(x).numpy()
    wn.g.assign(wn.g * 2.0)
    np.testing.assert_allclose(wn(x), 2 * base, rtol=1e-4, atol=1e-5)
    assert [v.name for v in wn.weights] == ["g", "kernel", "bias", "initialized"]


@pytest.mark.parametrize("builder,layer_name", [(srgan.vgg_22, "block2_conv2"), (srgan.vgg_54, "block5_conv4")])
def test_vgg_feature_models(builder, layer_name, tmp_path, rng):
    vgg = builder(weights=None)
    assert vgg.layers[-1].name == layer_name and not vgg.trainable
    # A local weights file is loaded (here random weights saved in the legacy layout of the Keras file).
    source = keras.applications.VGG19(input_shape=(None, None, 3), include_top=False, weights=None)
    from sr_tf import save_weights

    path = str(tmp_path / "vgg19_notop.h5")
    save_weights(source, path)
    local = builder(weights=path)
    x = rng.uniform(-100, 100, (1, 32, 32, 3)).astype("float32")
    expected = keras.Model(source.input, source.get_layer(layer_name).output)(x)
    np.testing.assert_allclose(local(x), expected, rtol=1e-5, atol=1e-4)


def test_vgg_download_failure_says_how_to_use_a_local_file(monkeypatch):
    monkeypatch.setattr(keras.applications, "VGG19", offline)
    with pytest.raises(RuntimeError,
                       match="vgg19/vgg19_weights_tf_dim_ordering_tf_kernels_notop.h5 .*vgg_weights=PATH"):
        srgan.vgg_54()
    with pytest.raises(FileNotFoundError, match="missing.h5"):
        srgan.vgg_22(weights="missing.h5")
