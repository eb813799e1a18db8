"""Shows that the tests issue 25 strengthened can fail: breaks the code once per test (one edit at a time, each the
bug the test is about), runs that test, expects it to fail, and puts the code back.

    python tests/bites.py                      # every case (about 3 minutes on 2 cores)
    python tests/bites.py "slerp linear"       # some of them, by name

Not collected by pytest (a check of the suite, not a part of it). It works on a copy of the repository in a
temporary folder, so the working tree is never touched, even when it is interrupted. A case whose line has changed
stops with an AssertionError naming it: update the line with the code.
"""
import pathlib
import shutil
import subprocess
import sys
import tempfile

SOURCE = pathlib.Path(__file__).resolve().parent.parent
CASES = [
 ("hinge margin constant", "sr_tf/losses.py",
  "    margin = Draws.current().uniform(tf.shape(logits), per_image=True) * margin_range + (1.0 - margin_range)",
  "    margin = tf.fill(tf.shape(logits), 0.9)",
  "tests/test_losses.py::test_hinge_losses_use_a_random_margin_between_08_and_1"),
 ("saturation identity", "sr_tf/data/transforms.py",
  "    return (x - mean) * _per_image_uniform(x, 0.0, 2.0, draws) + mean",
  "    return x",
  "tests/test_transforms_diffaugment.py::test_saturation_and_contrast_scale_each_image_by_its_own_draw"),
 ("MATLAB: one final rounding", "sr_tf/data/matlab.py",
  "        x = tf.cast(_round_uint8(x), tf.float64)",
  "        pass",
  "tests/test_matlab_resize.py::test_uint8_rounds_after_each_dimension_and_downscale_selects_it"),
 ("bits/dim: batch means", "sr_tf/metrics/likelihood.py",
  "        values.append(batch_values(images, labels).numpy().astype(np.float64))",
  "        v = batch_values(images, labels).numpy().astype(np.float64); values.append(np.full_like(v, v.mean()))",
  "tests/test_train_pixelcnn.py::test_bits_per_image_matches_numpy_on_uneven_batches"),
 ("restore() does nothing", "sr_tf/train/trainer.py",
  "        path = records.restore_newest_readable(self.checkpoint, checkpoints)",
  "        path = None",
  "tests/test_tutorial_code.py::test_edsr_and_wdsr_recipes"),
 ("FID formula wrong", "sr_tf/metrics/gan.py",
  "    return float(np.sum((mu1 - mu2) ** 2) + np.trace(s1) + np.trace(s2) - 2.0 * trace_root)",
  "    return float(np.sum((mu1 - mu2) ** 2) + np.trace(s1) + np.trace(s2) - 1.9 * trace_root)",
  "tests/test_train_fastgan.py::test_trainer_score_is_fid_of_ema_samples_against_the_dataset"),
 ("FID of the training generator", "sr_tf/train/fastgan.py",
  '        fake = generate_images(self.models["generator_ema"], max(len(real), 2), seed=1)',
  '        fake = generate_images(self.models["generator"], max(len(real), 2), seed=1)',
  "tests/test_train_fastgan.py::test_trainer_score_is_fid_of_ema_samples_against_the_dataset"),
 ("KID kernel squared", "sr_tf/metrics/gan.py",
  "        kxx, kyy, kxy = ((a @ b.T / d + 1.0) ** 3 for a, b in ((x, x), (y, y), (x, y)))",
  "        kxx, kyy, kxy = ((a @ b.T / d + 1.0) ** 2 for a, b in ((x, x), (y, y), (x, y)))",
  "tests/test_train_fastgan.py::test_cli_evaluate_prints_fid_and_kid_with_a_local_inception_file"),
 ("Normalize computes other values", "sr_tf/layers/sr.py",
  "        return (inputs - mean) / tf.constant(self.stddev, dtype=inputs.dtype)",
  "        return (inputs - mean) / tf.constant(self.stddev * 1.01, dtype=inputs.dtype)",
  "tests/test_compat.py"),
 ("realesrgan source is bicubic", "sr_tf/data/degradations.py",
  'DEGRADATIONS = {"bicubic": bicubic, "matlab": matlab, "realesrgan": realesrgan}',
  'DEGRADATIONS = {"bicubic": bicubic, "matlab": matlab, "realesrgan": bicubic}',
  "tests/test_degradations.py::test_sources_choose_their_lr"),
 ("demo verdict ignores the numbers", "sr_tf/cli/sr_demo.py",
  '        beats &= all(results["model"][k] > results["bicubic"][k] for k in ("psnr", "psnr_y"))',
  '        beats &= True',
  "tests/test_train_srgan_cli.py::test_demo_runs_offline_and_writes_its_outputs"),
 ("skipped files as Python warnings again", "sr_tf/errors.py",
  '    if _printing:',
  '    if False:',
  "tests/test_nothing_silent.py::test_skipped_images_are_lines_of_the_output_under_w_ignore_also_when_the_cache_is_reused"),
 ("SIGTERM not handled in the loop", "sr_tf/train/loop.py",
  "    previous = {s: signal.signal(s, handler) for s in (signal.SIGINT, signal.SIGTERM)}",
  "    previous = {s: signal.signal(s, handler) for s in (signal.SIGINT,)}",
  "tests/test_nothing_silent.py::test_sigterm_and_ctrl_c_finish_the_step_save_it_and_the_weights_resume"),
 ("resolve is not resolve_single per image", "sr_tf/inference.py",
  "    return to_uint8(tf.cast(model(tf.cast(lr_batch, tf.float32), training=False), tf.float32))",
  "    return to_uint8(tf.cast(model(tf.cast(lr_batch, tf.float32)[:, ::-1], training=False), tf.float32))",
  "tests/test_inference.py::test_package_exports_the_tutorial_names"),
 ("workers do not agree on the stop", "sr_tf/train/trainer.py",
  "                voted = distribute.mean_over_workers(self.strategy, float(voted)) > 0",
  "                pass",
  "tests/test_distribute.py::test_sigterm_to_one_worker_stops_both_at_one_step_and_a_restart_resumes_there"),
 ("CSV rows are the mean", "sr_tf/cli/pixelcnn.py",
  "    scores = bits_per_image(model, _dataset(split, levels, labelled, batch_size=256, shuffle=False, repeat_count=1))",  # noqa: E501 (a line of the source, verbatim)
  "    scores = bits_per_image(model, _dataset(split, levels, labelled, batch_size=256, shuffle=False, repeat_count=1)); scores = scores * 0 + scores.mean()",  # noqa: E501 (a line of the source, verbatim)
  "tests/test_train_pixelcnn.py::test_train_pixelcnn_cli_train_resume_evaluate_sample"),
 ("--jit not passed to the trainers", "sr_tf/cli/common.py",
  "    return dict(strategy=strategy, jit_compile=options.jit, precision=plan.precision,",
  "    return dict(strategy=strategy, jit_compile=False, precision=plan.precision,",
  "tests/test_mixed_precision.py::test_every_training_script_takes_mixed_precision_and_jit"),
 ("walk frames rendered from the wrong latents", "sr_tf/cli/fastgan.py",
  "        frames = [render(deployed, inputs) for inputs in latent_walk(deployed, seed_a, seed_b, args.frames)]",
  "        frames = [render(deployed, inputs) for inputs in latent_walk(deployed, seed_a, seed_b, args.frames)[::-1]][::-1]; frames[1:-1] = frames[-2:0:-1]",  # noqa: E501 (a line of the source, verbatim)
  "tests/test_deploy_fastgan.py::test_generate_walks_and_latent_files"),
 ("slerp linear", "sr_tf/deploy/fastgan.py",
  "    mixed = (np.sin((1 - t) * omega) * a64 + np.sin(t * omega) * b64) / np.sin(omega)",
  "    mixed = (1 - t) * a64 + t * b64",
  "tests/test_deploy_fastgan.py::test_slerp_moves_along_the_great_circle"),
 ("no rotation/flip", "sr_tf/data/base.py",
  "                return random_flip(*random_rotate(lr, hr, draws), draws)",
  "                return lr, hr",
  "tests/test_data.py::test_random_crops_stay_aligned_after_rotate_and_flip"),
 ("restore gives fresh weights", "sr_tf/train/trainer.py",
  "        path = records.restore_newest_readable(self.checkpoint, checkpoints)",
  "        path = records.restore_newest_readable(self.checkpoint, checkpoints); [m.set_weights([w * 0.5 for w in m.get_weights()]) for m in self.models.values()]",  # noqa: E501 (a line of the source, verbatim)
  "tests/test_bad_input.py::test_a_damaged_latest_checkpoint_falls_back_to_the_previous_one"),
]
only = sys.argv[1:]
scratch = tempfile.mkdtemp(prefix="bites-")
REPO = pathlib.Path(scratch) / "repo"
shutil.copytree(SOURCE, REPO, ignore=shutil.ignore_patterns(".venv", ".git", "__pycache__", ".ckpt", ".div2k"))
for name, path, old, new, test in CASES:
    if only and name not in only:
        continue
    file = REPO / path
    text = file.read_text()
    assert text.count(old) == 1, (name, text.count(old))
    file.write_text(text.replace(old, new))
    try:
        r = subprocess.run([sys.executable, "-m", "pytest", "-q", "-x", test], cwd=REPO,
                           capture_output=True, text=True)
        last = [line for line in r.stdout.splitlines() if "passed" in line or "failed" in line][-1:]
        print(f"{'FAILS (good)' if r.returncode else 'PASSES (bad)'}: {name}: {test} {last}", flush=True)
    finally:
        file.write_text(text)
shutil.rmtree(scratch, ignore_errors=True)
