"""Every preset of the spec registry, checked at a tiny size by `run_model_test` (build from the spec, call,
config and `.keras` round trips that rebuild from the config alone, `.weights.h5` and legacy `.h5` round trips,
one step of fit); a preset without a case here fails `test_every_preset_has_a_model_test`. Also: the published
parameter counts at full size, the one-line errors of the registry, and a toy family added the way
CONTRIBUTING.md says, to show that a family needs nothing but its spec, its builder and its tests."""

import dataclasses

import keras
import numpy as np
import pytest
from model_helpers import run_model_test

from sr_tf import models, specs
from sr_tf.errors import UserInputError
from sr_tf.models.common import Model, with_spec

SR_TINY = dict(num_filters=4, num_res_blocks=1)
PIXELCNN_TINY = dict(input_shape=(5, 4, 1), hidden=4, levels=4)
FASTGAN_TINY = dict(im_size=64, ngf=4, ndf=4, nz=8, decoder_width=4)


def _lr(rng):
    return rng.uniform(0, 255, (2, 6, 5, 3)).astype("float32")


def _levels(rng, spec):
    images = rng.integers(0, spec.levels, (2, *spec.input_shape)).astype("float32")
    return [images, np.array([0, 1], np.int32)] if getattr(spec, "num_classes", None) else images


# preset -> (tiny overrides of its architecture, inputs for a spec); legacy .h5 for the super-resolution families.
CASES = {
    "edsr-16-x4": (SR_TINY, _lr),
    "wdsr-b-32-x4": (SR_TINY, _lr),
    "srresnet-x4": (SR_TINY, _lr),
    "srgan-x4": (dict(SR_TINY, scale=2), _lr),
    "demo": (SR_TINY, _lr),
    "pixelcnn-mnist": (dict(PIXELCNN_TINY, num_res_blocks=1), _levels),
    "gated-pixelcnn-mnist": (dict(PIXELCNN_TINY, num_layers=1, num_classes=3), _levels),
    "pixelcnn-digits": (dict(PIXELCNN_TINY, num_res_blocks=1, head="logistic_mixture", num_mixtures=2), _levels),
    "gated-pixelcnn-digits": (dict(PIXELCNN_TINY, num_layers=1), _levels),
    "pixelcnn-folder": (dict(PIXELCNN_TINY, input_shape=(4, 4, 3), num_res_blocks=1, batchnorm=False), _levels),
    "gated-pixelcnn-folder": (dict(PIXELCNN_TINY, input_shape=(4, 4, 3), num_layers=1), _levels),
    "esrgan-x4": (dict(num_feat=8, num_block=1, num_grow_ch=4), _lr),
    "realesrgan-x4plus": (dict(num_feat=8, num_block=1, num_grow_ch=4), _lr),
    "realesrnet-x4plus": (dict(num_feat=8, num_block=1, num_grow_ch=4, scale=1), _lr),
    "realesrgan-x2plus": (dict(num_feat=8, num_block=1, num_grow_ch=4), lambda rng: _lr(rng)[:, :4, :4]),
    "realesrgan-x4plus-anime-6b": (dict(num_feat=8, num_block=1, num_grow_ch=4), _lr),
    "realesr-general-x4v3": (dict(num_feat=8, num_conv=2), _lr),
    "realesr-general-wdn-x4v3": (dict(num_feat=8, num_conv=2), _lr),
    "realesr-animevideov3": (dict(num_feat=8, num_conv=1), _lr),
    "fastgan-256": (FASTGAN_TINY, None),
    "fastgan-1024": (FASTGAN_TINY, None),
    "fastgan-demo": (FASTGAN_TINY, None),
}


def test_every_preset_has_a_model_test():
    assert set(CASES) == set(specs.PRESETS), set(specs.PRESETS) ^ set(CASES)


@pytest.mark.parametrize("name", sorted(CASES))
def test_preset_model(name, tmp_path, rng):
    overrides, inputs = CASES[name]
    architecture = specs.architecture(name, **overrides)
    sr = isinstance(architecture, specs.SrArchitecture)
    x = rng.standard_normal((2, 8)).astype("float32") if inputs is None else (
        inputs(rng) if sr else inputs(rng, architecture))
    model = run_model_test(architecture, x, tmp_path, legacy_h5=sr, deterministic=inputs is not None)
    if sr:
        assert model(x).shape[1:3] == (x.shape[1] * architecture.scale, x.shape[2] * architecture.scale)


# ../shared/reference/super-resolution.md (counted from the authors' code: BasicSR 1.4.2 for the Real-ESRGAN ones)
@pytest.mark.parametrize("name,parameters", [("edsr-16-x4", 1_517_571), ("srresnet-x4", 1_554_883),
                                             ("srgan-x4", 1_554_883), ("realesrgan-x4plus", 16_697_987),
                                             ("realesrgan-x2plus", 16_703_171),
                                             ("realesrgan-x4plus-anime-6b", 4_467_779),
                                             ("realesr-general-x4v3", 1_213_296),
                                             ("realesr-general-wdn-x4v3", 1_213_296),
                                             ("realesr-animevideov3", 621_424)])
def test_full_size_presets_have_the_published_parameter_counts(name, parameters):
    assert models.build(name).count_params() == parameters


def test_the_fastgan_presets_have_the_official_settings():
    # the official code's defaults (../shared/reference/fastgan.md); test_models_fastgan.py counts the parameters
    # of the networks they build (generator 29,127,846 trainable at 256 px)
    official = dict(ngf=64, ndf=64, nz=256)
    assert specs.architecture("fastgan-256") == specs.FastGAN(im_size=256, **official)
    assert specs.architecture("fastgan-1024") == specs.FastGAN(im_size=1024, **official)
    assert specs.preset("fastgan-256").recipe.batch_size == 8 and specs.preset("fastgan-256").recipe.steps == 50_000


def test_build_takes_a_preset_or_a_family_and_overrides():
    model = models.build("edsr", scale=2, num_filters=4, num_res_blocks=2)
    assert model.spec == specs.Edsr(scale=2, num_filters=4, num_res_blocks=2)
    assert models.build("edsr-16-x4", num_filters=4).spec.num_res_blocks == 16
    assert specs.architecture("wdsr-b-32-x4", wdsr_type="a").res_block_expansion == 4  # the type's default
    assert specs.architecture("wdsr", num_res_blocks=0).num_res_blocks == 0  # 0 is a value, not "unset"
    assert all(isinstance(text, str) and text for text in models.presets().values())


def test_registry_errors_are_one_line_and_name_the_choices():
    with pytest.raises(UserInputError, match="Unknown model .edsr-99.*edsr-16-x4.*family .edsr, fastgan"):
        models.build("edsr-99")
    with pytest.raises(UserInputError, match="has no depth; it has scale, num_filters"):
        models.build("edsr", depth=3)
    with pytest.raises(UserInputError, match="Unknown preset"):
        specs.preset("nope")
    with pytest.raises(UserInputError, match="num_res_blocks=0"):
        models.build("edsr", num_res_blocks=0)


def test_the_thin_builders_record_the_same_spec_as_build():
    from sr_tf.models import edsr, pixelcnn, srgan, wdsr

    assert edsr.edsr(2, num_filters=4, num_res_blocks=1).spec == models.build("edsr", scale=2, **SR_TINY).spec
    assert wdsr.wdsr_a(2, 4, 1).spec == specs.Wdsr(scale=2, num_filters=4, num_res_blocks=1, wdsr_type="a")
    assert srgan.generator(4, 1, scale=2).spec == specs.Srresnet(scale=2, num_filters=4, num_res_blocks=1)
    assert pixelcnn.pixelcnn((4, 4, 1), 1, 4, 4).spec == specs.PixelCNN(input_shape=(4, 4, 1), num_res_blocks=1,
                                                                        hidden=4, levels=4)


# A toy family, added as CONTRIBUTING.md says: a spec (here in the test instead of sr_tf/specs/<family>.py), a
# builder returning a `sr_tf.models.Model` with its spec, and this test.
@dataclasses.dataclass(frozen=True)
class Toy(specs.Architecture):
    family = "toy"
    builder = "test_presets:toy_builder"
    filters: int = 3


def toy_builder(filters=Toy.filters):
    x_in = keras.Input((None, None, 3))
    return with_spec(Model(x_in, keras.layers.Conv2D(filters, 1, name="conv")(x_in), name="toy"), Toy(filters))


@pytest.fixture
def toy_family():
    specs.register_family(Toy)
    specs.register_preset("toy-5", "a toy with 5 filters", Toy(filters=5), specs.PRESETS["demo"].recipe)
    yield
    del specs.FAMILIES["toy"], specs.PRESETS["toy-5"]


def test_a_new_family_needs_only_its_spec_builder_and_tests(toy_family, tmp_path, rng):
    assert "toy-5" in models.presets()
    model = run_model_test(specs.architecture("toy-5"), rng.standard_normal((2, 3, 3, 3)).astype("float32"),
                           tmp_path)
    assert model.spec == Toy(5) and model.output.shape[-1] == 5
    loaded = models.load_model(str(tmp_path / "model.keras"))  # the spec is back from the file alone
    assert loaded.spec == Toy(5) and specs.from_config(loaded.spec.get_config()) == Toy(5)
