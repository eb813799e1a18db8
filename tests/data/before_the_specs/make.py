"""Writes the files of this folder with sr_tf at commit 3d15e7f (before the model specs, issue 23): whole models
as `.keras` (configs without a spec) and a checkpoint folder of a one-step EDSR training run. Run it from this
folder with that commit installed: python make.py"""


import keras
import numpy as np

from sr_tf.models import edsr, fastgan, pixelcnn, srgan, wdsr
from sr_tf.train import EdsrTrainer

keras.utils.set_random_seed(0)
models = {
    "edsr": edsr.edsr(2, num_filters=8, num_res_blocks=2),
    "wdsr": wdsr.wdsr_a(3, num_filters=8, num_res_blocks=1),
    "srresnet": srgan.generator(num_filters=8, num_res_blocks=1, scale=2),
    "pixelcnn": pixelcnn.pixelcnn((6, 6, 3), num_res_blocks=1, hidden=6, levels=4, head="logistic_mixture",
                                  num_mixtures=2),
    "gated": pixelcnn.gated_pixelcnn((6, 6, 1), num_layers=2, hidden=4, levels=4, num_classes=3),
    "fastgan": fastgan.generator(64, ngf=4, nz=8),
}
for name, model in models.items():
    model.save(f"{name}.keras")
rng = np.random.default_rng(0)
lr = rng.uniform(0, 255, (2, 6, 6, 3)).astype("float32")
hr = rng.uniform(0, 255, (2, 12, 12, 3)).astype("float32")
import tensorflow as tf  # noqa: E402

trainer = EdsrTrainer(models["edsr"], "edsr_checkpoint", learning_rate=1e-4)
trainer.train(tf.data.Dataset.from_tensors((lr, hr)).repeat(), None, steps=1, evaluate_every=1)
print("ok")
