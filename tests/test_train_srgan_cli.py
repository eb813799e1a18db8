"""train_srgan.py end to end in subprocesses, on tiny generated folders and tiny models."""

import os
import re
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

from helpers import REPO, random_image, run_cli, write_png

SCRIPT = os.path.join(REPO, "train_srgan.py")
TINY = ["--num-filters", "4", "--num-res-blocks", "1", "--batch-size", "2"]


@pytest.fixture(scope="module")
def workdir(tmp_path_factory):
    root = tmp_path_factory.mktemp("cli")
    rng = np.random.default_rng(7)
    for i in range(3):
        write_png(str(root / "hr" / f"{i}.png"), random_image(rng, 96, 104))
    write_png(str(root / "valid" / "v.png"), random_image(rng, 32, 40))
    return root


def run_in_process(workdir, *args):
    """Runs train_srgan.py's main in this process from `workdir` (no interpreter and TensorFlow start-up per
    run); returns (exit status, captured stdout, captured stderr)."""
    import contextlib
    import io

    from sr_tf.cli import srgan as srgan_cli

    out, err, previous = io.StringIO(), io.StringIO(), os.getcwd()
    os.chdir(workdir)
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            status = srgan_cli.main(list(args))
    finally:
        os.chdir(previous)
    return status, out.getvalue(), err.getvalue()


def train(workdir, *args):
    status, stdout, stderr = run_in_process(workdir, *args)
    assert status == 0, stdout[-2000:] + stderr[-3000:]
    return subprocess.CompletedProcess(args, status, stdout, stderr)


def test_pretrain_then_gan(workdir):
    out = train(workdir, "pretrain", "--hr-dir", "hr", "--valid-hr-dir", "valid", "--steps", "2",
                "--evaluate-every", "1", *TINY)
    assert "Best validation PSNR" in out.stdout
    assert (workdir / "weights/srgan/pre_generator.h5").exists()
    out = train(workdir, "gan", "--hr-dir", "hr", "--valid-hr-dir", "valid", "--steps", "2", "--evaluate-every",
                "2", "--vgg-weights", "none", "--content-loss", "VGG22", *TINY)
    assert "discriminator_loss" in out.stdout
    assert (workdir / "weights/srgan/gan_generator.h5").exists()
    assert (workdir / "weights/srgan/gan_discriminator.h5").exists()


def test_pretrain_and_gan_at_x2_use_their_own_files(workdir):
    """--scale 2: the x2 generator is trained and saved under weights/srgan-x2, and gan starts from that file by
    default (the x4 file of the test above would not load into an x2 generator)."""
    data = ["--scale", "2", "--hr-dir", "hr", "--steps", "1", *TINY]
    train(workdir, "pretrain", *data)
    out = train(workdir, "gan", *data, "--vgg-weights", "none", "--content-loss", "VGG22")
    assert "discriminator_loss" in out.stdout
    assert (workdir / "weights/srgan-x2/pre_generator.h5").exists()
    assert (workdir / "weights/srgan-x2/gan_generator.h5").exists()
    status, _, stderr = run_in_process(workdir, "pretrain", "--scale", "3", "--hr-dir", "hr", "--steps", "1", *TINY)
    assert status == 2 and "x2, x4 or x8" in stderr and "Traceback" not in stderr


@pytest.mark.parametrize("command,weights", [("edsr", "weights/edsr-1-x2/weights.h5"),
                                             ("wdsr", "weights/wdsr-b-1-x2/weights.h5")])
def test_edsr_wdsr_resume_and_evaluate(workdir, command, weights):
    data = ["--scale", "2", "--hr-dir", "hr", "--valid-hr-dir", "valid", "--evaluate-every", "1"]
    args = [command, *data, *TINY]
    train(workdir, *args, "--steps", "2")
    assert (workdir / weights).exists()
    again = train(workdir, *args, "--steps", "3")
    assert "at step 2" in again.stdout  # resumed, not restarted
    out = train(workdir, "evaluate", "--model", command, "--scale", "2", "--num-filters", "4",
                "--num-res-blocks", "1", "--weights", weights, "--hr-dir", "valid")
    lines = {line.split()[0]: line.split()[1:] for line in out.stdout.splitlines() if line.split()}
    assert len(lines["model"]) == 6 and len(lines["bicubic"]) == 6  # PSNR RGB, Y, SSIM, mean error R G B
    status, _, stderr = run_in_process(workdir, command, *data, "--num-filters", "8", "--num-res-blocks", "1",
                                       "--batch-size", "2", "--steps", "4")
    assert status == 2 and "another architecture" in stderr


def test_ctrl_c_saves_a_checkpoint_and_the_next_run_resumes(workdir):
    args = [sys.executable, SCRIPT, "edsr", "--scale", "2", "--hr-dir", "hr", "--evaluate-every", "1",
            "--checkpoint-dir", "ck_sigint", *TINY]
    process = subprocess.Popen([*args, "--steps", "100000"], cwd=str(workdir), stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True, env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"})
    deadline = time.time() + 120
    while not (workdir / "ck_sigint" / "checkpoint").exists() and time.time() < deadline:
        time.sleep(0.2)
    process.send_signal(signal.SIGINT)
    stdout, stderr = process.communicate(timeout=120)
    assert process.returncode == 130, stderr[-3000:]
    assert "Interrupted at step" in stdout and "Traceback" not in stderr
    step = int(stdout.split("Interrupted at step ")[1].split(";")[0])
    resumed = run_cli([*args[1:], "--steps", str(step + 1)], cwd=str(workdir))
    assert resumed.returncode == 0 and f"at step {step}" in resumed.stdout


def test_demo_runs_offline_and_writes_its_outputs(workdir):
    """Both halves of the demo (tiny, 2 steps): the status follows the verdicts."""
    status, out, err = run_in_process(workdir, "demo", "--steps", "2", "--evaluate-every", "1", "--num-filters", "4",
                                      "--num-res-blocks", "1", "--batch-size", "2", "--degradation", "realesrgan")
    beats = "The model beats bicubic." in out and "The degradation-trained model beats both" in out
    assert "does NOT beat" in out or beats, err[-3000:]
    assert status == (0 if beats else 1), err[-3000:]
    for variant in ("chelsea.png (", "dark (x0.3)", "smooth (blur 2 px)"):
        assert f"Held-out photo {variant}" in out
    assert out.count("means over 8 independent draws") == 2 and "Real-ESRGAN's degradation model" in out
    assert len(re.findall(r"degradation-trained model has the best Y-PSNR on [0-8] of the 8 draws", out)) == 2
    assert "bicubic-trained" in out and "degradation-trained" in out and "mean error R/G/B" in out
    for path in ("weights/demo/edsr-demo-x4.h5", "weights/demo/edsr-demo-x4-realesrgan.h5",
                 "demo_output/chelsea_bicubic_model_original.png",
                 "demo_output/chelsea_bicubic_model_original_degraded.png"):
        assert (workdir / path).exists(), path
