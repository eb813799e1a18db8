"""Multi-worker training through the three command lines: two worker processes on 127.0.0.1 (free ports, a
TF_CONFIG each) against the same steps in one process on the global batch; a killed worker; the restart."""

import os
import re
import signal

import h5py
import numpy as np
import pytest
from checkpoint_helpers import assert_weights_in_checkpoint
from process_helpers import (
    REPO,
    finish_workers,
    port_was_taken,
    run_workers,
    start_cli,
    start_workers,
    start_workers_until,
)

SRGAN = os.path.join(REPO, "train_srgan.py")
PIXELCNN = os.path.join(REPO, "train_pixelcnn.py")
FASTGAN = os.path.join(REPO, "train_fastgan.py")


def workers_and_one_process(args, multi, one, cwd):
    """Runs `args` as two workers (`--strategy multiworker` plus the `multi` options) and, at the same time, as
    one process (`--strategy one` plus `one`): three processes at once use the 2 cores better than in turn
    (tracing is single-threaded). Returns ([(status, output)] of the workers, (status, output) of the one)."""
    multiworker = [*args, "--strategy", "multiworker", *multi]
    processes = start_workers(multiworker, cwd=str(cwd))
    processes.append(start_cli([*args, "--strategy", "one", *one], cwd=str(cwd)))
    *workers, single = finish_workers(processes)
    if port_was_taken(workers):  # taken before a worker bound it: again with new ports
        workers = run_workers(multiworker, cwd=str(cwd))
    assert single[0] == 0, single[1][-3000:]
    return workers, single[1]


def h5_arrays(path):
    """Every dataset of an HDF5 weights file, by its path in the file."""
    arrays = {}
    with h5py.File(path, "r") as f:
        f.visititems(lambda name, obj: arrays.__setitem__(name, obj[()]) if isinstance(obj, h5py.Dataset) else None)
    return arrays


def digests(results):
    return [re.search(r"Worker (\d) weights digest: (\w+)", out).groups() for _, out in results]


def assert_weights_close(multi, one, learning_rate, steps, zero_gradient=None):
    """The two runs' weights agree within a hundredth of the learning rate, where Adam moves a weight by about the
    learning rate per step, so a step that differed would show (measured: at most 0.002 x lr apart).

    The exception, `zero_gradient` (a regex of weight names): a convolution bias right before BatchNorm, whose
    mean BatchNorm removes, has a zero gradient in exact arithmetic; its float rounding differs with the summation
    order across replicas, Adam turns it into steps of up to the learning rate (measured: up to 3.5 x lr), and the
    moving mean after it follows. Those keep the loose bound of 2 x lr x steps."""
    import re as regex

    assert multi.keys() == one.keys() and one
    loose = [k for k in one if zero_gradient and regex.search(zero_gradient, k)]
    assert len(loose) < len(one) / 2, loose  # the exception stays an exception
    for key in one:
        atol = 2 * learning_rate * steps if key in loose else learning_rate / 100
        np.testing.assert_allclose(multi[key], one[key], rtol=1e-5, atol=atol, err_msg=key)


def check_workers(results):
    """Both workers exit 0, report the same weights digest, and only the chief saves weights."""
    for status, out in results:
        assert status == 0, out[-3000:]
    (first, a), (second, b) = digests(results)
    assert (first, second) == ("0", "1") and a == b
    assert "Saved" in results[0][1] and "Saved" not in results[1][1]


def assert_losses_equal(multi, one):
    """The losses the progress line shows (4 significant digits) agree."""
    assert multi.keys() == one.keys() and one
    for key in one:
        assert multi[key] == pytest.approx(one[key], rel=2e-3), key


def losses_at(out, step):
    """The logged losses of a plain progress line 'step N/M ... name value ...'."""
    line = next(line for line in out.splitlines() if line.startswith(f"step {step}/"))
    return {k: float(v) for k, v in re.findall(r"([a-z_]+) (-?[0-9.e+-]+)", line.split(")", 1)[1])
            if k not in ("s", "steps")}


def test_train_srgan_two_workers_equal_one_process_on_the_global_batch(tmp_path):
    args = [SRGAN, "pretrain", "--data", "samples", "--num-filters", "4", "--num-res-blocks", "1",
            "--batch-size", "4", "--steps", "4", "--evaluate-every", "2"]
    results, single = workers_and_one_process(args, ["--checkpoint-dir", "multi", "--weights-out", "multi.h5"],
                                              ["--checkpoint-dir", "one", "--weights-out", "one.h5"], tmp_path)
    check_workers(results)
    multi, one = h5_arrays(tmp_path / "multi.h5"), h5_arrays(tmp_path / "one.h5")
    assert any("bn" in k for k in one)  # SRResNet's BatchNorm, synchronised over the workers
    assert_weights_close(multi, one, learning_rate=1e-4, steps=4,
                         zero_gradient=r"(res\d+_conv\d|body_conv)/.*bias|moving_mean")
    # The chief's folder holds its checkpoints; the other worker's temporary folder is gone.
    files = os.listdir(tmp_path / "multi")
    assert "ckpt-4.index" in files and not [f for f in files if f.startswith("workertemp")]
    assert_losses_equal(losses_at(results[0][1], 2), losses_at(single, 2))


def test_train_pixelcnn_two_workers_equal_one_process(tmp_path):
    args = [PIXELCNN, "train", "--dataset", "digits", "--levels", "4", "--num-res-blocks", "1", "--hidden", "8",
            "--batch-size", "16", "--steps", "6", "--evaluate-every", "3"]
    results, single = workers_and_one_process(args, ["--checkpoint-dir", "multi", "--weights-dir", "wmulti"],
                                              ["--checkpoint-dir", "one", "--weights-dir", "wone"], tmp_path)
    check_workers(results)
    name = "pixelcnn-digits-4-num-res-blocks-1-hidden-8.weights.h5"
    assert_weights_close(h5_arrays(tmp_path / "wmulti" / name), h5_arrays(tmp_path / "wone" / name),
                         learning_rate=1e-3, steps=6, zero_gradient=r"masked_conv2d(_\d+)?/vars/1$")
    assert_losses_equal(losses_at(results[0][1], 3), losses_at(single, 3))
    assert sorted(os.listdir(tmp_path)) == ["multi", "one", "wmulti", "wone"]  # nothing else written


def test_train_fastgan_two_workers_equal_one_process(tmp_path):
    """FastGAN's noise, quadrants, DiffAugment and hinge margins are drawn for the global batch and split over
    the workers, so the losses and weights agree with one process as well (see `assert_weights_close`)."""
    steps, lr = 1, 2e-4
    args = [FASTGAN, "train", "--im-size", "64", "--batch-size", "2", "--ngf", "4", "--ndf", "4", "--nz", "8",
            "--decoder-width", "4", "--recon-loss", "l1", "--sample-every", "1", "--checkpoint-every", "1",
            "--steps", str(steps)]
    results, single = workers_and_one_process(args, ["--checkpoint-dir", "multi", "--weights-dir", "wmulti"],
                                              ["--checkpoint-dir", "one", "--weights-dir", "wone"], tmp_path)
    check_workers(results)
    first = losses_at(results[0][1], 1)
    assert first.keys() == {"d_real", "d_recon", "d_fake", "g_loss"}
    assert_losses_equal(first, losses_at(single, 1))
    name = "fastgan-samples-64-ngf-4-ndf-4-nz-8-decoder-width-4-generator.weights.h5"  # (settings unlike the demo's)
    # (no bias before BatchNorm here: every weight within lr / 100)
    assert_weights_close(h5_arrays(tmp_path / "wmulti" / name), h5_arrays(tmp_path / "wone" / name), lr, steps)
    assert sorted(os.listdir(tmp_path / "multi" / "samples")) == sorted(os.listdir(tmp_path / "one" / "samples"))


def test_a_killed_worker_stops_the_other_with_one_line(tmp_path):
    args = [PIXELCNN, "train", "--dataset", "digits", "--levels", "4", "--num-res-blocks", "1", "--hidden", "8",
            "--batch-size", "16", "--evaluate-every", "5", "--checkpoint-dir", "ckpt", "--weights-dir", "w",
            "--strategy", "multiworker", "--collective-timeout", "30", "--steps-per-execution", "1"]
    workers = start_workers_until([*args, "--steps", "100000"], str(tmp_path),
                                  lambda: (tmp_path / "ckpt" / "ckpt-10.index").exists())
    try:
        os.kill(workers[1].pid, signal.SIGKILL)
    finally:
        (status, out), _ = finish_workers(workers, timeout=300)
    # It stopped on its own (status 2, not killed at the timeout) with the one-line message.
    assert status == 2 and "error: Another worker stopped" in out, out[-3000:]
    with open(tmp_path / "ckpt" / "checkpoint") as f:
        last = int(re.search(r'model_checkpoint_path: "ckpt-(\d+)"', f.read()).group(1))
    assert last >= 10 and last % 5 == 0  # (the restart from a checkpoint: the SIGTERM test below)


def test_sigterm_to_one_worker_stops_both_at_one_step_and_a_restart_resumes_there(tmp_path):
    """A scheduler's SIGTERM reaching one worker: both finish the step under way, agree on the step, save it and
    exit 143 (the other worker would otherwise wait in a collective for a peer that left). The restart at that
    step count restores the checkpoint on both workers and writes exactly its weights."""
    args = [PIXELCNN, "train", "--dataset", "digits", "--levels", "4", "--num-res-blocks", "1", "--hidden", "8",
            "--batch-size", "16", "--evaluate-every", "5", "--checkpoint-dir", "ckpt", "--weights-dir", "w",
            "--strategy", "multiworker", "--collective-timeout", "60", "--steps", "100000"]
    workers = start_workers_until(args, str(tmp_path), lambda: (tmp_path / "ckpt" / "ckpt-5.index").exists())
    try:
        workers[1].send_signal(signal.SIGTERM)
    finally:
        results = finish_workers(workers, timeout=300)
    steps = []
    for status, out in results:
        assert status == 143 and "Traceback" not in out, out[-3000:]
        steps.append(int(re.search(r"Interrupted at step (\d+);", out).group(1)))
    last = steps[0]
    assert steps[1] == last >= 5
    with open(tmp_path / "ckpt" / "checkpoint") as f:
        assert f'model_checkpoint_path: "ckpt-{last}"' in f.read()
    results = run_workers([*args[:-1], str(last), "--no-keep-best"], cwd=str(tmp_path))  # (not the best's)
    for status, out in results:
        assert status == 0 and f"at step {last} " in out, out[-3000:]
    check_workers(results)
    weights = tmp_path / "w" / "pixelcnn-digits-4-num-res-blocks-1-hidden-8.weights.h5"
    assert_weights_in_checkpoint(h5_arrays(weights).values(), tmp_path / "ckpt")
