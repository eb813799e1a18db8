import os

import keras

from sr_tf import save_weights
from sr_tf.models import edsr, fastgan, pixelcnn, srgan, wdsr

keras.utils.set_random_seed(0)
out = "/tmp/premove"
models = {
 "edsr": edsr.edsr(2, num_filters=8, num_res_blocks=1),
 "wdsr": wdsr.wdsr_b(2, num_filters=8, num_res_blocks=1),
 "pixelcnn": pixelcnn.pixelcnn((6, 6, 3), num_res_blocks=1, hidden=6, levels=4),
 "gated": pixelcnn.gated_pixelcnn((6, 6, 1), num_layers=1, hidden=4, levels=4, num_classes=3),
 "fastgan": fastgan.generator(64, ngf=4, nz=8),
 "srgan": srgan.generator(num_filters=8, num_res_blocks=1),
}
for k, m in models.items():
    m.save(os.path.join(out, f"{k}.keras"))
save_weights(models["edsr"], os.path.join(out, "edsr_legacy.h5"))
save_weights(models["wdsr"], os.path.join(out, "wdsr_legacy.h5"))
save_weights(models["srgan"], os.path.join(out, "srgan_legacy.h5"))
print("ok")
