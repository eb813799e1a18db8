#!/usr/bin/env python
"""Training at scale: the step loop's host overhead, the input pipeline's cost, GFLOP/s against this machine's
limits, where the SRResNet step's time goes, and the cost of two-worker training. Every ratio is against a
baseline measured in the same run.

    python bench/bench_scale.py overhead     # Trainer.train at steps_per_execution 1 / auto vs one tf.function
    python bench/bench_scale.py pipeline     # the command line's ImageFolder pipeline vs a constant batch
    python bench/bench_scale.py flops        # SRResNet/SRGAN/FastGAN steps in GFLOP/s vs matmul and conv limits
    python bench/bench_scale.py profile      # the SRResNet step by TensorFlow op (TensorFlow profiler)
    python bench/bench_scale.py multiworker  # steps/s of two workers on 127.0.0.1 vs one process
"""

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile

import common  # noqa: F401  (first: the path set-up)
import numpy as np
import tensorflow as tf
from common import REPO, clock, machine_line

from sr_tf.data import ImageFolder
from sr_tf.data.io import sample_files
from sr_tf.models import build_sr_model, srgan
from sr_tf.specs import preset
from sr_tf.train import EdsrTrainer, SrganGeneratorTrainer, SrganTrainer

DEMO = preset("demo")  # the demo's architecture and recipe


def constant(lr_size, scale, batch, seed=0):
    rng = np.random.default_rng(seed)
    hr = rng.integers(0, 256, (batch, lr_size * scale, lr_size * scale, 3), dtype=np.uint8)
    return hr[:, ::scale, ::scale].copy(), hr


def trainer_rate(make_trainer, data, steps, spe, folder):
    """Steps/s of `Trainer.train` (after a warm-up call that traces), progress bar and checkpoints included."""
    trainer = make_trainer(folder, spe)
    trainer.train(data, steps=2, evaluate_every=10**9)
    started = clock()
    trainer.train(data, steps=2 + steps, evaluate_every=10**9)
    return steps / started.elapsed(), trainer


def raw_rate(trainer, data, steps):
    """Steps/s of `steps` train steps inside one tf.function (no host work between steps): the step itself."""
    iterator = iter(trainer.strategy.experimental_distribute_dataset(data))

    @tf.function
    def run(n):
        for _ in tf.range(n):
            trainer._distributed_step(next(iterator))

    run(tf.constant(2))
    started = clock()
    run(tf.constant(steps))
    return steps / started.elapsed()


def overhead(args):
    """Host overhead per step of the Trainer loop, tiny EDSR (the issue's case) and the demo's model."""
    cases = {
        "EDSR 4 filters, 1 block, batch 1 of 8x8 -> 32x32": (dict(num_filters=4, num_res_blocks=1), 8, 1, 400),
        "demo EDSR 32 filters, 4 blocks, batch 16 of 24x24 -> 96x96": (
            dict(num_filters=DEMO.architecture.num_filters, num_res_blocks=DEMO.architecture.num_res_blocks),
            24, 16, 60),
    }
    print(machine_line())
    print(f"{'case':60s} {'spe':>5s} {'steps/s':>9s} {'ms/step':>8s} {'overhead ms':>12s}")
    for name, (model_args, lr_size, batch, steps) in cases.items():
        data = tf.data.Dataset.from_tensors(constant(lr_size, 4, batch)).repeat()

        def make(folder, spe):
            model = build_sr_model("edsr", scale=4, **model_args)
            return EdsrTrainer(model, folder, steps_per_execution=spe, log_every=10**9, log_interval=3600)

        with tempfile.TemporaryDirectory() as tmp:
            rates = {}
            for spe in (1, "auto", 50):
                rates[spe], trainer = trainer_rate(make, data, steps, spe, os.path.join(tmp, str(spe)))
            raw = raw_rate(trainer, data, steps)
        base = 1000 / raw
        print(f"{name:60s} {'raw':>5s} {raw:9.1f} {base:8.2f} {0:12.2f}")
        for spe, rate in rates.items():
            print(f"{'':60s} {str(spe):>5s} {rate:9.1f} {1000 / rate:8.2f} {1000 / rate - base:12.2f}   "
                  f"({rate / rates[1]:.2f}x spe=1)")


def pipeline(args):
    """steps/s of the demo's model on the command line's pipeline (ImageFolder on the bundled photos) against
    the same trainer on one constant batch, in the same process."""
    print(machine_line())
    train = ImageFolder(sample_files(["astronaut.png", "coffee.png", "rocket.png"]), scale=4, hr_crop_size=96,
                        crop_to_scale=True)
    sources = {"constant batch": tf.data.Dataset.from_tensors(constant(24, 4, 16)).repeat(),
               "ImageFolder pipeline": train.dataset(batch_size=16, seed=0)}

    def make(folder, spe):
        model = DEMO.architecture.build()
        return EdsrTrainer(model, folder, steps_per_execution=spe, log_every=10**9, log_interval=3600)

    rates = {}
    with tempfile.TemporaryDirectory() as tmp:
        for round_ in range(2):  # alternate, so drift in the machine's speed hits both
            for name, data in sources.items():
                rate, _ = trainer_rate(make, data, args.steps, "auto", os.path.join(tmp, f"{name}{round_}"))
                rates.setdefault(name, []).append(rate)
    for name, values in rates.items():
        print(f"{name:25s} {np.mean(values):7.2f} steps/s  (runs: {', '.join(f'{v:.2f}' for v in values)})")
    ratio = np.mean(rates["ImageFolder pipeline"]) / np.mean(rates["constant batch"])
    print(f"pipeline / constant: {ratio:.3f}")


# ------------------------------------------------------------------------------------------ FLOPs and limits
def forward_flops(model, input_shapes):
    """Forward FLOPs of a Keras model on inputs of the given shapes, counted by TensorFlow's graph profiler
    (convolutions, matrix products and the element-wise ops it has statistics for)."""
    specs = [tf.TensorSpec(shape, tf.float32) for shape in input_shapes]
    graph = tf.function(lambda *x: model(list(x) if len(x) > 1 else x[0], training=False)) \
        .get_concrete_function(*specs).graph
    options = tf.compat.v1.profiler.ProfileOptionBuilder(
        tf.compat.v1.profiler.ProfileOptionBuilder.float_operation()).with_empty_output().build()
    return tf.compat.v1.profiler.profile(graph=graph, options=options).total_float_ops


def rate_of(fn, repeats=5):
    fn()
    started = clock()
    for _ in range(repeats):
        out = fn()
    np.asarray(out)
    return started.elapsed() / repeats


def limits():
    """GFLOP/s of a 2048^2 float32 matmul in NumPy and TensorFlow and of one 64->64 3x3 convolution (forward and
    the two backward kernels) on SRResNet's body shape (16 x 24 x 24 x 64) and a 96x96 one."""
    n = 2048
    a, b = np.random.rand(n, n).astype(np.float32), np.random.rand(n, n).astype(np.float32)
    ta, tb = tf.constant(a), tf.constant(b)
    out = {"numpy matmul": 2 * n ** 3 / rate_of(lambda: a @ b) / 1e9,
           "tf matmul": 2 * n ** 3 / rate_of(lambda: tf.matmul(ta, tb)) / 1e9}
    for size in (24, 96):
        x = tf.random.normal((16, size, size, 64))
        k = tf.random.normal((3, 3, 64, 64))
        flops = 2 * 16 * size * size * 9 * 64 * 64
        conv = tf.function(lambda: tf.nn.conv2d(x, k, 1, "SAME"))
        out[f"conv 64->64 3x3 fwd {size}x{size}"] = flops / rate_of(conv) / 1e9
        dy = tf.random.normal((16, size, size, 64))
        back_input = tf.function(lambda: tf.raw_ops.Conv2DBackpropInput(
            input_sizes=tf.shape(x), filter=k, out_backprop=dy, strides=[1, 1, 1, 1], padding="SAME"))
        back_filter = tf.function(lambda: tf.raw_ops.Conv2DBackpropFilter(
            input=x, filter_sizes=tf.shape(k), out_backprop=dy, strides=[1, 1, 1, 1], padding="SAME"))
        out[f"conv backprop input {size}x{size}"] = flops / rate_of(back_input) / 1e9
        out[f"conv backprop filter {size}x{size}"] = flops / rate_of(back_filter) / 1e9
    return out


def srresnet_trainer(folder, jit):
    model = srgan.generator()
    return SrganGeneratorTrainer(model, folder, jit_compile=jit, log_every=10**9, log_interval=3600)


def flops(args):
    """The SRResNet pre-training step (batch 16, 24 -> 96) and the SRGAN step in GFLOP/s (training = 3 x the
    forward FLOPs: forward, input gradient, weight gradient) next to the machine's limits."""
    print(machine_line())
    for name, value in limits().items():
        print(f"limit  {name:32s} {value:7.1f} GFLOP/s")
    data = tf.data.Dataset.from_tensors(constant(24, 4, 16)).repeat()
    with tempfile.TemporaryDirectory() as tmp:
        for jit in (False, True):
            rate, trainer = trainer_rate(lambda f, spe: srresnet_trainer(f, jit), data, args.steps, "auto",
                                         os.path.join(tmp, f"pre{jit}"))
            gflop = 3 * forward_flops(trainer.model, [(16, 24, 24, 3)]) / 1e9
            print(f"SRResNet pre-training, jit={jit}: {gflop:.1f} GFLOP/step, {1 / rate:.2f} s/step, "
                  f"{gflop * rate:.1f} GFLOP/s")
        if args.gan:
            generator, discriminator = srgan.generator(), srgan.discriminator()
            trainer = SrganTrainer(generator, discriminator, os.path.join(tmp, "gan"), vgg_weights=None,
                                   jit_compile=True, log_every=10**9, log_interval=3600)
            rate, _ = trainer_rate(lambda f, spe: trainer, data, max(args.steps // 3, 2), "auto", None)
            # (training costs about 3 x the forward FLOPs: forward, input gradient, weight gradient)
            gflop = (3 * forward_flops(generator, [(16, 24, 24, 3)])
                     + 3 * 2 * forward_flops(discriminator, [(16, 96, 96, 3)])  # D on HR and on SR
                     + 2 * forward_flops(trainer.vgg, [(32, 96, 96, 3)])) / 1e9  # VGG: forward + input gradient
            print(f"SRGAN step, jit=True: {gflop:.1f} GFLOP/step, {1 / rate:.2f} s/step, {gflop * rate:.1f} GFLOP/s")


def profile(args):
    """Runs SRResNet pre-training steps under the TensorFlow profiler and prints the ops that take the time."""
    from op_profile import op_seconds

    print(machine_line())
    data = tf.data.Dataset.from_tensors(constant(24, 4, 16)).repeat()
    with tempfile.TemporaryDirectory() as tmp:
        trainer = srresnet_trainer(os.path.join(tmp, "ckpt"), args.jit)
        trainer.train(data, steps=2, evaluate_every=10**9)
        started = clock()
        by_op = op_seconds(lambda: trainer.train(data, steps=2 + args.steps, evaluate_every=10**9))
        wall = started.elapsed()
    total = sum(by_op.values())
    print(f"{args.steps} steps in {wall:.2f} s ({wall / args.steps:.2f} s/step); op time {total:.2f} s "
          f"(summed over the executor's threads; an op's time includes its Eigen/oneDNN worker threads)")
    for name, seconds in by_op.most_common(15):
        print(f"  {name:50s} {seconds:7.2f} s  {100 * seconds / total:5.1f}%")


# --------------------------------------------------------------------------------------------- multi-worker
def multiworker(args):
    """Steps/s of the demo-size EDSR through train_srgan.py on two workers (127.0.0.1) vs one process."""
    print(machine_line())
    command = [sys.executable, os.path.join(REPO, "train_srgan.py"), "edsr", "--data", "samples", "--scale", "4",
               "--num-filters", "32", "--num-res-blocks", "4", "--batch-size", "16", "--steps", str(args.steps),
               "--evaluate-every", str(args.steps), "--log-interval", "3600"]
    with tempfile.TemporaryDirectory() as tmp:
        def run(strategy, env_list):
            started = clock()
            procs = [subprocess.Popen([*command, "--strategy", strategy, "--checkpoint-dir", "ck" + strategy,
                                       "--weights-out", f"w{strategy}.h5"], cwd=tmp, env=env,
                                      stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
                     for env in env_list]
            outs = [p.communicate()[0] for p in procs]
            assert all(p.returncode == 0 for p in procs), outs[0][-2000:]
            speeds = [float(line.rsplit("steps/s", 1)[1].split()[0]) for line in outs[0].splitlines()
                      if "steps/s" in line]
            return speeds[-1], started.elapsed()

        sockets = [socket.socket() for _ in range(2)]
        for s in sockets:
            s.bind(("127.0.0.1", 0))
        ports = [s.getsockname()[1] for s in sockets]
        for s in sockets:
            s.close()
        cluster = {"worker": [f"127.0.0.1:{p}" for p in ports]}
        envs = [{**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2",
                 "TF_CONFIG": json.dumps({"cluster": cluster, "task": {"type": "worker", "index": i}})}
                for i in range(2)]
        one, one_wall = run("one", [{**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"}])
        two, two_wall = run("multiworker", envs)
    print(f"one process:  {one:.2f} steps/s of batch 16 (wall {one_wall:.0f} s)")
    print(f"two workers:  {two:.2f} steps/s of global batch 16 (wall {two_wall:.0f} s); ratio {two / one:.2f}")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("what", choices=["overhead", "pipeline", "flops", "profile", "multiworker"])
    parser.add_argument("--steps", type=int, default=None)
    parser.add_argument("--jit", action="store_true", help="profile: the XLA-compiled step")
    parser.add_argument("--gan", action="store_true", help="flops: the SRGAN step too")
    parser.add_argument("--inter-op", type=int, default=None, help="TensorFlow's inter-op threads (default: TF's)")
    args = parser.parse_args()
    if args.inter_op is not None:
        tf.config.threading.set_inter_op_parallelism_threads(args.inter_op)
    defaults = {"overhead": 0, "pipeline": 150, "flops": 5, "profile": 3, "multiworker": 300}
    args.steps = defaults[args.what] if args.steps is None else args.steps
    {"overhead": overhead, "pipeline": pipeline, "flops": flops, "profile": profile,
     "multiworker": multiworker}[args.what](args)


if __name__ == "__main__":
    main()
