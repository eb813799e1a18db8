#!/usr/bin/env python
"""Train and evaluate SRGAN, EDSR and WDSR (see `python train_srgan.py --help`).

    python train_srgan.py demo                   # offline: bundled photos, a few minutes on a CPU
    python train_srgan.py pretrain               # SRResNet pre-training on DIV2K (downloaded once)
    python train_srgan.py gan                    # SRGAN fine-tuning from weights/srgan/pre_generator.h5
    python train_srgan.py edsr --scale 4         # EDSR, L1
    python train_srgan.py wdsr --scale 4         # WDSR-B, L1
    python train_srgan.py evaluate --model edsr --weights weights/edsr-16-x4/weights.h5

Re-running a training command resumes from its checkpoint; Ctrl-C saves a checkpoint and exits (status 130).
"""

if __name__ == "__main__":
    from sr_tf.cli.startup import script

    script("sr_tf.cli.srgan")  # TensorFlow's log hidden unless --verbose; TensorFlow loads there: a few seconds
