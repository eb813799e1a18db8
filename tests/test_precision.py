"""Precision: what `auto` chooses from the CPU flags and GPUs, models rebuilt in bfloat16 / float16 with their
weights and back, the image path kept in float32, inference and training in a precision, and the command lines'
--precision."""

import os

import keras
import numpy as np
import pytest
from helpers import random_image, write_png
from PIL import Image

from sr_tf import precision
from sr_tf.errors import UserInputError
from sr_tf.models import build, load_model


def test_auto_chooses_from_the_cpu_flags_and_the_gpus(tmp_path):
    assert precision.choose("auto", flags={"avx2", "amx_bf16", "amx_tile"}, gpus=[])[0] == "bfloat16"
    assert precision.choose("auto", flags={"avx512f", "avx512_bf16"}, gpus=[]) == (
        "bfloat16", "the CPU reports avx512_bf16")
    assert precision.choose("auto", flags={"avx2", "fma"}, gpus=[])[0] == "float32"
    assert precision.choose("auto", flags={"amx_bf16"}, gpus=["NVIDIA H200"]) == (
        "float16", "the GPU NVIDIA H200 has tensor cores")
    assert precision.choose("float32", flags={"amx_bf16"}, gpus=[])[0] == "float32"  # asked for: kept
    with pytest.raises(UserInputError, match="Unknown precision='bf16'; choose one of float32, bfloat16"):
        precision.choose("bf16")
    cpuinfo = tmp_path / "cpuinfo"
    cpuinfo.write_text("processor\t: 0\nflags\t\t: fpu sse2 avx512_bf16 amx_tile\n\nprocessor\t: 1\n")
    assert precision.cpu_flags(str(cpuinfo)) >= {"fpu", "avx512_bf16", "amx_tile"}
    assert precision.cpu_flags(str(tmp_path / "none")) == set()
    assert "Precision auto: float32 (" in precision.describe_choice(*precision.choose("auto", flags=set(), gpus=[]))


@pytest.mark.parametrize("name,overrides", [("srvgg", dict(num_feat=8, num_conv=2)),
                                            ("edsr", dict(num_filters=8, num_res_blocks=1)),
                                            ("wdsr", dict(num_filters=8, num_res_blocks=1)),
                                            ("srresnet", dict(num_filters=8, num_res_blocks=1)),
                                            ("rrdbnet", dict(num_feat=8, num_block=1, num_grow_ch=4))])
def test_a_model_rebuilt_in_bfloat16_keeps_its_weights_and_returns_to_float32_exactly(name, overrides, rng, tmp_path):
    model = build(name, **overrides)
    x = rng.uniform(0, 255, (1, 12, 10, 3)).astype("float32")
    reference = model(x).numpy()
    half = precision.with_precision(model, "bfloat16")
    assert precision.precision_of(half) == "bfloat16"
    assert all(w.dtype == "float32" for w in half.weights if w.dtype != "bool")  # (WDSR's "initialized" flag)
    out = half(x)
    assert out.dtype == "float32" and half.layers[-1].compute_dtype == "float32"  # the 0..255 output
    assert 0 < np.abs(out.numpy() - reference).max() < 16  # bfloat16 rounding, not another model
    path = str(tmp_path / "half.keras")
    half.save(path)  # a model built in one precision saves and loads in any other
    back = precision.with_precision(load_model(path), "float32")
    np.testing.assert_array_equal(back(x).numpy(), reference)
    assert precision.with_precision(model, "float32") is model


def test_the_image_path_stays_float32_in_bfloat16():
    """SRVGGNetCompact adds the nearest-upsampled input to what its body computes: with a body that computes
    nothing, a bfloat16 model returns the input's pixels exactly (in bfloat16, 201 / 255 would round off)."""
    model = precision.with_precision(build("srvgg", num_feat=4, num_conv=1), "bfloat16")
    for layer in model.layers:
        if layer.name == "conv_last":
            layer.set_weights([np.zeros_like(w) for w in layer.get_weights()])
    x = np.arange(3 * 4 * 3, dtype="float32").reshape(1, 3, 4, 3) * 7 + 1  # 1..253, most not bfloat16 exact
    out = model(x).numpy()
    np.testing.assert_array_equal(out, np.repeat(np.repeat(x, 4, axis=1), 4, axis=2))


def test_resolve_in_a_precision_follows_the_models_weights(rng):
    from sr_tf.inference import resolve_single, to_uint8

    model = build("srvgg", num_feat=8, num_conv=2)
    image = random_image(rng, 9, 7)
    expected = to_uint8(precision.with_precision(model, "bfloat16")(image[None].astype("float32"))[0]).numpy()
    np.testing.assert_array_equal(resolve_single(model, image, precision="bfloat16"), expected)
    np.testing.assert_array_equal(resolve_single(model, image, precision="float32"), resolve_single(model, image))
    model.set_weights([w * 0.5 for w in model.get_weights()])  # trained further: the copy runs the new weights
    expected = to_uint8(precision.with_precision(model, "bfloat16")(image[None].astype("float32"))[0]).numpy()
    np.testing.assert_array_equal(resolve_single(model, image, precision="bfloat16"), expected)


def test_trainers_train_in_the_precision_the_models_were_built_in(tmp_path):
    import tensorflow as tf

    from sr_tf.train import EdsrTrainer

    with pytest.raises(UserInputError,
                       match=r"built in float32: build them inside sr_tf.precision.policy\('bfloat16'\)"):
        EdsrTrainer(build("edsr", scale=2, num_filters=4, num_res_blocks=1), str(tmp_path / "a"), precision="bfloat16")
    with precision.policy("bfloat16"):
        model = build("edsr", scale=2, num_filters=4, num_res_blocks=1)
    assert keras.mixed_precision.global_policy().name == "float32"  # restored after the block
    trainer = EdsrTrainer(model, str(tmp_path / "b"), precision="bfloat16")
    assert trainer.precision == "bfloat16"
    assert not isinstance(trainer.optimizers["model"], keras.optimizers.LossScaleOptimizer)  # no scaling needed
    hr = tf.random.uniform((2, 16, 16, 3), 0, 255)
    lr = tf.image.resize(hr, (8, 8))
    before = [w.numpy() for w in model.trainable_weights]
    trainer.train(tf.data.Dataset.from_tensors((lr, hr)).repeat(), steps=1, evaluate_every=1)
    assert all(w.dtype == "float32" for w in model.weights)
    assert any(not np.array_equal(a, w.numpy()) for a, w in zip(before, model.trainable_weights))
    assert EdsrTrainer(model, str(tmp_path / "c")).precision == "bfloat16"  # unset: as built


def test_resolve_says_what_auto_chose_and_runs_in_it(tmp_path, rng, capsys):
    from sr_tf.cli import resolve as resolve_cli
    from sr_tf.inference import resolve_single
    from sr_tf.models import from_pytorch

    weights = os.path.join(os.path.dirname(__file__), "data", "realesrgan_reference", "srvgg_x4.safetensors")
    image = random_image(rng, 8, 6)
    photo = write_png(str(tmp_path / "p.png"), image)
    assert resolve_cli.main([photo, "-o", str(tmp_path / "out"), "--weights", weights]) == 0
    chosen, reason = precision.choose("auto")
    assert f"Precision auto: {chosen} ({reason})." in capsys.readouterr().out
    got = np.asarray(Image.open(tmp_path / "out" / "p.png"))
    np.testing.assert_array_equal(got, resolve_single(from_pytorch(weights), image, precision=chosen))
    tflite = str(tmp_path / "m.tflite")
    open(tflite, "wb").close()
    assert resolve_cli.main([photo, "-o", str(tmp_path / "o2"), "--tflite", tflite, "--precision", "bfloat16"]) == 2
    assert "--precision bfloat16 applies to Keras models" in capsys.readouterr().err


def test_a_training_command_in_bfloat16_writes_float32_models(tmp_path, capsys):
    from sr_tf.cli import srgan as srgan_cli

    rng = np.random.default_rng(0)
    for i in range(2):
        write_png(str(tmp_path / "hr" / f"{i}.png"), random_image(rng, 100, 100))
    out = str(tmp_path / "w")
    assert srgan_cli.main(["edsr", "--scale", "2", "--hr-dir", str(tmp_path / "hr"), "--num-filters", "4",
                           "--num-res-blocks", "1", "--batch-size", "2", "--steps", "1", "--precision", "bfloat16",
                           "--checkpoint-dir", str(tmp_path / "ck"), "--weights-dir", out,
                           "--caches-dir", str(tmp_path / "caches")]) == 0
    saved = load_model(os.path.join(out, "edsr-1-x2-num-filters-4.keras"))
    assert precision.precision_of(saved) == "float32"
    assert srgan_cli.main(["edsr", "--precision", "bfloat16", "--mixed-precision", "--hr-dir", "x"]) == 2
    assert "--mixed-precision is --precision float16" in capsys.readouterr().err


def test_export_writes_a_bfloat16_saved_model_and_refuses_it_for_tflite(tmp_path, rng, capsys):
    from sr_tf.cli import export as export_cli
    from sr_tf.deploy import SavedModelSR
    from sr_tf.inference import resolve_single
    from sr_tf.models import from_pytorch

    weights = os.path.join(os.path.dirname(__file__), "data", "realesrgan_reference", "srvgg_x4.safetensors")
    folder = str(tmp_path / "sm")
    assert export_cli.main(["--weights", weights, "--format", "saved_model", "--precision", "bfloat16",
                            "-o", folder]) == 0
    image = random_image(rng, 8, 6)
    exported = resolve_single(SavedModelSR(folder), image)
    expected = resolve_single(from_pytorch(weights), image, precision="bfloat16")
    assert np.abs(exported.astype(int) - expected).max() <= 1
    assert export_cli.main(["--weights", weights, "--precision", "bfloat16", "-o", str(tmp_path / "m.tflite")]) == 2
    assert "a TFLite file's precision is --quantize" in capsys.readouterr().err
    assert not os.path.exists(tmp_path / "m.tflite")
