"""GAN strength: network interpolation between a PSNR-trained and a GAN-trained model, in Python and in
`python -m sr_tf.resolve --gan-weights B --gan-strength s`."""

import numpy as np
import pytest
from helpers import random_image, write_png
from model_helpers import randomize_batchnorm
from PIL import Image

from sr_tf import interpolate_weights
from sr_tf.errors import UserInputError
from sr_tf.models import build_sr_model


def two_generators():
    psnr, gan = (randomize_batchnorm(build_sr_model("srgan", scale=2, num_filters=4, num_res_blocks=1), seed)
                 for seed in (0, 1))
    gan.set_weights([w + np.float32(0.05) for w in gan.get_weights()])  # other conv weights too
    return psnr, gan


def test_ends_are_the_two_models_and_the_middle_is_the_mean_of_every_weight(rng):
    psnr, gan = two_generators()
    image = random_image(rng, 9, 7)[None].astype(np.float32)
    np.testing.assert_array_equal(interpolate_weights(psnr, gan, 0)(image).numpy(), psnr(image).numpy())
    np.testing.assert_array_equal(interpolate_weights(psnr, gan, 1.0)(image).numpy(), gan(image).numpy())
    middle = interpolate_weights(psnr, gan, 0.25)
    for w, a, b in zip(middle.weights, psnr.weights, gan.weights):  # moving statistics included
        np.testing.assert_allclose(w.numpy(), 0.75 * a.numpy() + 0.25 * b.numpy(), rtol=1e-6, atol=1e-7)
    out = middle(image).numpy()
    assert np.abs(out - psnr(image).numpy()).max() > 0 and np.abs(out - gan(image).numpy()).max() > 0
    with pytest.raises(UserInputError, match="Received: alpha=1.5"):
        interpolate_weights(psnr, gan, 1.5)
    with pytest.raises(UserInputError, match="different architectures"):
        interpolate_weights(psnr, build_sr_model("srgan", scale=2, num_filters=4, num_res_blocks=2), 0.5)


def test_resolve_blends_the_two_weights_files(tmp_path, rng, capsys):
    from sr_tf.cli import resolve as resolve_cli
    from sr_tf.weights_io import save_weights

    psnr, gan = two_generators()
    save_weights(psnr, str(tmp_path / "pre.h5"))
    save_weights(gan, str(tmp_path / "gan.h5"))
    image = random_image(rng, 10, 8)
    write_png(str(tmp_path / "in" / "a.png"), image)
    common = [str(tmp_path / "in"), "--model", "srgan", "--scale", "2", "--num-filters", "4", "--num-res-blocks",
              "1", "--weights", str(tmp_path / "pre.h5")]
    for strength in ("0", "0.6", "1"):
        assert resolve_cli.main([*common, "-o", str(tmp_path / strength), "--gan-weights", str(tmp_path / "gan.h5"),
                                 "--gan-strength", strength]) == 0
    got = {s: np.asarray(Image.open(tmp_path / s / "a.png")) for s in ("0", "0.6", "1")}
    expected = {s: np.clip(np.round(interpolate_weights(psnr, gan, float(s))(image[None].astype(np.float32))
                                    .numpy()[0]), 0, 255) for s in ("0", "0.6", "1")}
    for s in got:
        assert np.abs(got[s].astype(float) - expected[s]).max() <= 1, s
    assert np.abs(got["0"].astype(float) - got["1"]).max() > 1
    capsys.readouterr()
    for extra, message in [(["--gan-weights", str(tmp_path / "gan.h5")], "go together"),
                           (["--gan-strength", "0.5"], "go together")]:
        assert resolve_cli.main([*common, "-o", str(tmp_path / "x"), *extra]) == 2
        assert message in capsys.readouterr().err
    with pytest.raises(SystemExit):
        resolve_cli.main([*common, "-o", str(tmp_path / "x"), "--gan-weights", "g.h5", "--gan-strength", "2"])


def test_denoise_strength_between_two_official_srvgg_files(tmp_path, rng):
    """Real-ESRGAN's denoise strength: realesr-general-x4v3 blended with its -wdn- twin, two PyTorch files."""
    import os

    from helpers import write_safetensors

    from sr_tf.cli import resolve as resolve_cli
    from sr_tf.models import from_pytorch
    from sr_tf.models.pytorch_files import read_state_dict

    general = os.path.join(os.path.dirname(__file__), "data", "realesrgan_reference", "srvgg_x4.safetensors")
    twin = write_safetensors(tmp_path / "wdn.safetensors",
                             {k: (v * 0.5 + 0.01).astype(np.float32) for k, v in read_state_dict(general).items()})
    write_png(str(tmp_path / "in" / "a.png"), random_image(rng, 6, 5))
    assert resolve_cli.main([str(tmp_path / "in"), "-o", str(tmp_path / "out"), "--weights", twin,
                             "--gan-weights", general, "--gan-strength", "0.3"]) == 0
    a, b = from_pytorch(twin), from_pytorch(general)
    mixed = a.spec.build()
    mixed.set_weights([0.7 * wa + 0.3 * wb for wa, wb in zip(a.get_weights(), b.get_weights())])
    image = np.asarray(Image.open(tmp_path / "in" / "a.png"))[None].astype("float32")
    expected = np.clip(np.round(mixed(image).numpy()[0]), 0, 255)
    got = np.asarray(Image.open(tmp_path / "out" / "a.png"))
    assert got.shape == (24, 20, 3) and np.abs(got - expected).max() <= 1
