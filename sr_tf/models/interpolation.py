"""Network interpolation (ESRGAN, Wang et al. 2018): a model whose every weight is (1 - alpha) * w_psnr + alpha *
w_gan, between a PSNR-trained and a GAN-trained model of one architecture - one knob from smooth to sharp
without retraining."""

import keras
import numpy as np

from sr_tf.errors import UserInputError


def interpolate_weights(psnr_model, gan_model, alpha):
    """A new model of `psnr_model`'s architecture with the weights (1 - alpha) * psnr + alpha * gan.

    Every variable is interpolated, trainable or not (BatchNorm moving statistics too), as the ESRGAN authors
    interpolate whole parameter sets; weight-normalized layers (WDSR) interpolate their direction and gain
    separately, as stored. alpha = 0 gives the PSNR model's output and 1 the GAN model's, exactly.

    Args:
        psnr_model, gan_model: two Keras models of one architecture (e.g. `load_sr_model` of the pre-trained
            and the GAN-trained generator); neither is changed.
        alpha: the GAN strength, 0 <= alpha <= 1.

    Raises:
        UserInputError: alpha outside [0, 1], or the models' weights differ in number or shape.
    """
    if alpha is None or not 0.0 <= float(alpha) <= 1.0:
        raise UserInputError(f"The GAN strength must be between 0 and 1. Received: alpha={alpha!r}")
    a, b = psnr_model.get_weights(), gan_model.get_weights()
    shapes = [w.shape for w in a], [w.shape for w in b]
    if shapes[0] != shapes[1]:
        raise UserInputError(f"The two models have different architectures ({len(a)} weights of "
                             f"{sum(w.size for w in a):,} values vs {len(b)} of {sum(w.size for w in b):,}); "
                             "interpolate two models of one architecture.")
    alpha = float(alpha)
    mixed = keras.models.clone_model(psnr_model)
    mixed.set_weights([wa if alpha == 0 else wb if alpha == 1 else
                       ((1.0 - alpha) * wa.astype(np.float64) + alpha * wb.astype(np.float64)).astype(wa.dtype)
                       for wa, wb in zip(a, b)])
    if getattr(psnr_model, "spec", None) is not None:
        mixed.spec = psnr_model.spec
    return mixed
