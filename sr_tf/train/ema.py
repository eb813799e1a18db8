"""Exponential moving averages of a model's weights (the EMA generators of FastGAN and Real-ESRGAN)."""

import keras


def moving_average_copy(model):
    """A copy of `model` with its weights, to hold an exponential moving average of them (an EMA generator)."""
    copy = keras.models.clone_model(model)
    copy.set_weights(model.get_weights())
    if getattr(model, "spec", None) is not None:
        copy.spec = model.spec
    return copy


def update_moving_average(average, model, decay):
    """One EMA step: trainable weights `avg = decay * avg + (1 - decay) * w`; non-trainable ones copied."""
    for avg, w in zip(average.trainable_variables, model.trainable_variables):
        avg.assign(decay * avg + (1.0 - decay) * w)
    for avg, w in zip(average.non_trainable_variables, model.non_trainable_variables):
        avg.assign(w)
