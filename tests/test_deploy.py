"""Export to TFLite and SavedModel: outputs against Keras at two sizes, quantization tolerances, a SavedModel
served without sr_tf, and refusing to write a model whose output is wrong."""

import os
import subprocess
import sys

import numpy as np
import pytest
from helpers import random_image
from process_helpers import assert_one_line_errors

from sr_tf.errors import UserInputError
from sr_tf.export import ExportCheckError, tflite_run, to_saved_model, to_tflite
from sr_tf.models import build_sr_model, srgan


def tiny(name):
    if name == "srresnet":
        return srgan.generator(num_filters=4, num_res_blocks=1)
    return build_sr_model(name, scale=2, num_filters=4, num_res_blocks=1)


@pytest.mark.parametrize("name", ["edsr", "wdsr", "srresnet"])
def test_one_tflite_file_runs_at_two_sizes_and_matches_keras(tmp_path, rng, name):
    model = tiny(name)
    path = str(tmp_path / f"{name}.tflite")
    content = to_tflite(model, path)
    assert open(path, "rb").read() == content
    for shape in [(1, 12, 10, 3), (1, 9, 16, 3)]:
        image = random_image(rng, *shape[1:3])[None]
        expected = model(image.astype(np.float32)).numpy()
        got = tflite_run(content, image)
        assert got.shape == expected.shape
        assert np.abs(got - expected).max() <= 1.0


def test_float16_within_two_grey_levels_and_dynamic_runs(rng):
    model = tiny("edsr")
    image = random_image(rng, 14, 11)[None]
    expected = model(image.astype(np.float32)).numpy()
    float32 = to_tflite(model)
    half = to_tflite(model, quantize="float16")
    assert np.abs(tflite_run(half, image) - expected).max() <= 2.0
    dynamic = to_tflite(model, quantize="dynamic", min_psnr=None)  # random weights: no quality bar
    assert np.all(np.isfinite(tflite_run(dynamic, image)))
    assert len(half) < len(float32)


def test_fixed_input_size_and_bad_quantization(rng):
    model = tiny("edsr")
    content = to_tflite(model, input_size=(8, 6))
    assert tflite_run(content, random_image(rng, 8, 6)[None]).shape == (1, 16, 12, 3)
    with pytest.raises(UserInputError, match="Received: quantize='int4'"):
        to_tflite(model, quantize="int4")


def test_a_model_with_non_finite_output_is_not_written(tmp_path):
    model = tiny("edsr")
    model.set_weights([np.full_like(w, np.nan) for w in model.get_weights()])
    with pytest.raises(ExportCheckError, match="not finite"):
        to_tflite(model, str(tmp_path / "bad.tflite"))
    with pytest.raises(ExportCheckError, match="not finite"):
        to_saved_model(model, str(tmp_path / "bad_savedmodel"))
    assert os.listdir(tmp_path) == []


def test_saved_model_serves_uint8_without_sr_tf(tmp_path, rng):
    model = tiny("edsr")
    path = to_saved_model(model, str(tmp_path / "edsr_savedmodel"))
    to_saved_model(model, path, overwrite=True)  # replacing an existing export
    image = random_image(rng, 13, 9)[None]
    np.save(tmp_path / "lr.npy", image)
    expected = np.clip(np.round(model(image.astype(np.float32)).numpy()), 0, 255).astype(np.uint8)
    code = ("import sys, numpy as np, tensorflow as tf\n"
            f"f = tf.saved_model.load({path!r}).signatures['serving_default']\n"
            f"out = f(lr=tf.constant(np.load({str(tmp_path / 'lr.npy')!r})))['sr'].numpy()\n"
            f"np.save({str(tmp_path / 'sr.npy')!r}, out)\n"
            "assert not any(m.startswith('sr_tf') for m in sys.modules)\n")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300,
                            env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"}, cwd=str(tmp_path))
    assert result.returncode == 0, result.stderr[-3000:]
    got = np.load(tmp_path / "sr.npy")
    assert got.dtype == np.uint8 and got.shape == expected.shape
    assert np.abs(got.astype(int) - expected.astype(int)).max() <= 1
    assert sorted(os.listdir(tmp_path)) == ["edsr_savedmodel", "lr.npy", "sr.npy"]


def test_int8_takes_and_gives_uint8_and_stays_close_to_float_on_a_trained_model(tmp_path):
    """A tiny EDSR trained briefly on the bundled photos: full-integer int8 (calibrated on their LR patches)
    and dynamic-range quantization lose under 0.5 dB PSNR against the float32 file on the held-out photo."""
    import tensorflow as tf

    from sr_tf.data import ImageFolder, crop_to_multiple, downscale, read_image
    from sr_tf.data.io import sample_files
    from sr_tf.deploy import representative_patches
    from sr_tf.train import EdsrTrainer

    model = build_sr_model("edsr", scale=2, num_filters=8, num_res_blocks=1)
    data = ImageFolder(sample_files(["astronaut.png", "coffee.png", "rocket.png"]), scale=2, hr_crop_size=48,
                       crop_to_scale=True).dataset(batch_size=8, seed=0)
    EdsrTrainer(model, str(tmp_path / "ckpt"), learning_rate=1e-3).train(data, steps=150, evaluate_every=150)
    hr = crop_to_multiple(read_image(sample_files(["chelsea.png"])[0])[0], 2)[:96, :128]
    lr = downscale(hr, 2).numpy()[None]

    def psnr(content):
        sr = np.clip(np.round(tflite_run(content, lr)[0]), 0, 255)
        return float(tf.image.psnr(sr, hr.astype(np.float32), 255.0))

    full = to_tflite(model)
    int8 = to_tflite(model, quantize="int8", representative=representative_patches(2, count=8))
    details = tf.lite.Interpreter(model_content=int8).get_input_details()[0]
    assert details["dtype"] == np.uint8
    # the raw uint8 output is the image itself (scale 1, zero point 0), as an app reading it as pixels takes it
    interpreter = tf.lite.Interpreter(model_content=int8)
    interpreter.resize_tensor_input(details["index"], lr.shape)
    interpreter.allocate_tensors()
    interpreter.set_tensor(details["index"], lr.astype(np.uint8))
    interpreter.invoke()
    output = interpreter.get_output_details()[0]
    assert output["dtype"] == np.uint8 and output["quantization"] == (1.0, 0)
    raw = interpreter.get_tensor(output["index"])
    np.testing.assert_array_equal(raw, np.clip(np.round(tflite_run(int8, lr)), 0, 255))
    reference = psnr(full)
    assert reference > 20  # trained: far from a random model
    print(f"PSNR float32 {reference:.2f}, int8 {psnr(int8):.2f}")
    assert reference - psnr(int8) < 0.5
    assert reference - psnr(to_tflite(model, quantize="dynamic")) < 0.5
    assert len(int8) < len(full)  # (a tiny model: the graph, not the weights, dominates the size)


def test_export_command_line_tflite_saved_model_and_errors(tmp_path, rng, capsys):
    from sr_tf.cli import export as export_cli
    from sr_tf.weights_io import save_model, save_weights

    model = tiny("edsr")
    weights, keras_file = str(tmp_path / "edsr.h5"), str(tmp_path / "edsr.keras")
    save_weights(model, weights)
    save_model(model, keras_file)
    common = ["--model", "edsr", "--scale", "2", "--num-filters", "4", "--num-res-blocks", "1"]
    tflite = str(tmp_path / "edsr.tflite")
    assert export_cli.main(["--weights", weights, *common, "-o", tflite]) == 0
    out = capsys.readouterr().out
    assert "CONV_2D x" in out and "DEPTH_TO_SPACE x" in out and "GPU delegate" in out
    assert "Saved artifact" not in out
    image = random_image(rng, 10, 7)[None]
    assert np.abs(tflite_run(open(tflite, "rb").read(), image) - model(image.astype(np.float32)).numpy()).max() <= 1
    assert export_cli.main(["--weights", keras_file, "--format", "saved_model", "-o",
                            str(tmp_path / "sm"), "--input-size", "10x7"]) == 0
    assert os.path.isfile(tmp_path / "sm" / "saved_model.pb")
    bad = [(["--weights", weights, "-o", "x.tflite"], "--model is needed"),
           (["--weights", weights, *common, "--format", "saved_model", "--quantize", "int8", "-o", "x"],
            "--quantize applies to --format tflite"),
           (["--weights", weights, *common, "--quantize", "int8", "--representative-dir", str(tmp_path / "none"),
             "-o", "x.tflite"], "none"),
           (["--weights", str(tmp_path / "missing.keras"), "-o", "x.tflite"], "missing.keras")]
    assert_one_line_errors(export_cli.main, bad, capsys)
    with pytest.raises(SystemExit):
        export_cli.main(["--weights", weights, "--input-size", "10by7", "-o", "x.tflite"])
    assert not os.path.exists("x.tflite")


def test_resolve_runs_tflite_and_saved_model_files_like_keras_with_tiles(tmp_path, rng):
    from helpers import write_png
    from PIL import Image

    from sr_tf.cli import resolve as resolve_cli

    model = tiny("edsr")
    tflite, saved = str(tmp_path / "m.tflite"), str(tmp_path / "sm")
    to_tflite(model, tflite)
    to_saved_model(model, saved)
    image = random_image(rng, 21, 18)
    write_png(str(tmp_path / "in" / "a.png"), image)
    expected = np.clip(np.round(model(image[None].astype(np.float32)).numpy()[0]), 0, 255)
    for name, source in [("tflite", ["--tflite", tflite]), ("saved", ["--saved-model", saved])]:
        for tile in ([], ["--tile", "8", "--tile-pad", "8"]):
            out = tmp_path / f"out_{name}_{len(tile)}"
            assert resolve_cli.main([str(tmp_path / "in"), "-o", str(out), *source, *tile]) == 0
            got = np.asarray(Image.open(out / "a.png")).astype(int)
            assert got.shape == (42, 36, 3) and np.abs(got - expected).max() <= 1
    assert resolve_cli.main([str(tmp_path / "in"), "-o", str(tmp_path / "x"), "--tflite",
                             str(tmp_path / "in" / "a.png")]) == 2


REFERENCE = os.path.join(os.path.dirname(__file__), "data", "realesrgan_reference")


ALL_FORMATS = [("tflite", "none", 1), ("tflite", "float16", 2), ("tflite", "dynamic", 24), ("tflite", "int8", 48),
               ("saved_model", "none", 1), ("onnx", "none", 1)]


# The x2 RRDBNet's TFLite file is checked in test_models_pytorch.py; its other formats here.
@pytest.mark.parametrize("weights,formats", [("srvgg_x4.safetensors", ALL_FORMATS),
                                             ("rrdbnet_x2.pth", ALL_FORMATS[4:])])
def test_official_weights_export_to_every_format_and_each_file_agrees_with_keras(weights, formats, tmp_path, rng,
                                                                                   capsys):
    """`python -m sr_tf.export --weights <official file>` to TFLite (float32, float16, dynamic, int8), SavedModel
    and ONNX; each file, run by `python -m sr_tf.resolve` with tiles, gives Keras's image (the quantized ones
    within their tolerance)."""
    from helpers import write_png
    from PIL import Image

    from sr_tf.cli import export as export_cli
    from sr_tf.cli import resolve as resolve_cli
    from sr_tf.models import from_pytorch

    source = os.path.join(REFERENCE, weights)
    model = from_pytorch(source)
    image = random_image(rng, 11, 9)  # odd sides: the x2 network pads inside the model
    write_png(str(tmp_path / "in" / "a.png"), image)
    expected = np.clip(np.round(model(image[None].astype(np.float32)).numpy()[0]), 0, 255)
    for fmt, quantize, tolerance in formats:
        output = str(tmp_path / f"{fmt}-{quantize}")
        assert export_cli.main(["--weights", source, "--format", fmt, "--quantize", quantize, "-o", output]) == 0
        flag = {"tflite": "--tflite", "saved_model": "--saved-model", "onnx": "--onnx"}[fmt]
        out = tmp_path / f"out-{fmt}-{quantize}"
        assert resolve_cli.main([str(tmp_path / "in"), "-o", str(out), flag, output, "--tile", "6"]) == 0
        got = np.asarray(Image.open(out / "a.png")).astype(int)
        assert got.shape == expected.shape and np.abs(got - expected).mean() <= tolerance / 4, (fmt, quantize)
        assert np.abs(got - expected).max() <= tolerance, (fmt, quantize)
    assert ("LiteRT interpreter (ai-edge-litert)" in capsys.readouterr().out) == (formats == ALL_FORMATS)


def test_tflite_falls_back_to_tensorflows_interpreter_without_litert(monkeypatch, rng):
    import builtins

    from sr_tf.deploy import interpreter_name, tflite_interpreter

    real_import = builtins.__import__

    def without_litert(name, *args, **kwargs):
        if name.startswith("ai_edge_litert"):
            raise ImportError(name)
        return real_import(name, *args, **kwargs)

    content, image = to_tflite(tiny("edsr")), random_image(rng, 6, 5)[None]
    assert type(tflite_interpreter(model_content=content)).__module__.startswith("ai_edge_litert")
    with_litert = tflite_run(content, image)
    monkeypatch.setattr(builtins, "__import__", without_litert)
    assert "tf.lite.Interpreter" in interpreter_name()
    assert type(tflite_interpreter(model_content=content)).__module__.startswith("tensorflow")
    assert with_litert.shape == (1, 12, 10, 3)
    np.testing.assert_allclose(tflite_run(content, image), with_litert, atol=1e-3)


def test_quantized_exports_are_measured_on_photos_and_refused_below_the_threshold(tmp_path):
    from sr_tf.deploy.quality import MIN_PSNR, QualityError, measure, photo_crops
    from sr_tf.models import from_pytorch

    model = from_pytorch(os.path.join(os.path.dirname(__file__), "data", "realesrgan_reference",
                         "srvgg_x4.safetensors"))
    seen = []
    path = str(tmp_path / "m.tflite")
    with pytest.raises(QualityError, match=r"scores PSNR \d+\.\d dB against Keras on 4 photo crops.*--force"):
        to_tflite(model, path, quantize="dynamic", min_psnr=99.0, on_quality=seen.append)
    assert not os.path.exists(path) and MIN_PSNR < seen[0].psnr < 99.0  # a good file, under an impossible bar
    to_tflite(model, path, quantize="dynamic", min_psnr=None)  # forced: written whatever it scores
    assert os.path.exists(path)
    # a reader that takes a calibrated uint8 output (scale 1.45, zero point 49) for pixels falls far below the bar
    crops = photo_crops(4)
    misread = measure(model, lambda crop: np.clip(np.round(model(crop).numpy() / 1.45 + 49), 0, 255), crops)
    assert misread.psnr < MIN_PSNR - 5
