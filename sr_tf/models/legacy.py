"""The spec of a model written before models carried one (sr_tf before issue 23): read once, when such a `.keras`
file is loaded, from the layer configs its builder wrote (names, filters, factors). Models built or saved since
carry their spec (`Model.spec`) and never come here."""

import re

from sr_tf import specs
from sr_tf.errors import UserInputError


def _count(model, pattern):
    return sum(1 for layer in model.layers if re.fullmatch(pattern, layer.name))


def _has(model, name):
    return any(layer.name == name for layer in model.layers)


def _factor(model, name):
    return model.get_layer(name).factor if _has(model, name) else None


def _edsr(model):
    scale = 1
    for layer in model.layers:
        match = re.fullmatch(r"conv2d_\d+_scale_(\d+)", layer.name)
        scale *= int(match.group(1)) if match else 1
    return specs.Edsr(scale=scale, num_filters=model.get_layer("head_conv").filters,
                      num_res_blocks=_count(model, r"res\d+_add"), res_block_scaling=_factor(model, "res1_scale"))


def _wdsr(model):
    num_filters = model.get_layer("head_conv").filters
    blocks = _count(model, r"res\d+_add")
    expansion = model.get_layer("res1_conv1").filters // num_filters if blocks else None
    return specs.Wdsr(scale=model.get_layer("main_shuffle").scale, num_filters=num_filters, num_res_blocks=blocks,
                      wdsr_type="b" if _has(model, "res1_conv3") or not blocks else "a",
                      res_block_expansion=expansion, res_block_scaling=_factor(model, "res1_scale"))


def _srresnet(model):
    return specs.Srresnet(scale=2 ** _count(model, r"up\d+_conv"), num_filters=model.get_layer("head_conv").filters,
                          num_res_blocks=_count(model, r"res\d+_add"))


def _head(model):
    last = model.layers[-1]
    mixture = hasattr(last, "num_mixtures")
    levels = last.levels if mixture else int(model.output.shape[-1])
    return dict(input_shape=tuple(int(d) for d in model.inputs[0].shape[1:]), levels=levels,
                head="logistic_mixture" if mixture else "softmax", num_mixtures=last.num_mixtures if mixture else 10)


def _pixelcnn(model):
    return specs.PixelCNN(num_res_blocks=_count(model, r"block\d+_add"), hidden=model.get_layer("head_conv1").filters,
                          batchnorm=_has(model, "input_bn"), **_head(model))


def _gated(model):
    first = model.get_layer("v_input_conv")
    embeddings = [layer for layer in model.layers if layer.name.endswith("_embedding")]
    return specs.GatedPixelCNN(num_layers=_count(model, r"layer\d+_h_add"), hidden=first.filters,
                               kernel_size=model.get_layer("layer1_v_conv_tanh").kernel_size[0]
                               if _has(model, "layer1_v_conv_tanh") else 3,
                               first_kernel_size=first.kernel_size[0],
                               num_classes=embeddings[0].input_dim if embeddings else None, **_head(model))


def _fastgan(model):
    # the first transposed convolution has 2 x 16 x ngf filters (see sr_tf.models.fastgan)
    return specs.FastGAN(im_size=int(model.outputs[0].shape[1]), ngf=model.get_layer("init_convt").filters // 32,
                         nz=int(model.inputs[0].shape[-1]))


READERS = {"edsr": _edsr, "wdsr": _wdsr, "srresnet": _srresnet, "pixelcnn": _pixelcnn, "gated_pixelcnn": _gated,
           "fastgan_generator": _fastgan}


def spec_from_layers(model, path="the model"):
    """The architecture spec of a model this package built before models carried one.

    Raises:
        UserInputError: the model is not one of this package's (its name is none of `READERS`).
    """
    if model.name not in READERS:
        raise UserInputError(f"{path} holds a model named {model.name!r}, which is none of sr_tf's models "
                             f"({', '.join(READERS)}) and carries no sr_tf spec.")
    return READERS[model.name](model)


def fitting_architecture(preset, path, scales=None):
    """The architecture of `preset`'s family (the tutorial's EDSR, WDSR or SRResNet) that a legacy `.h5` file fits:
    its width read from the first layer, its scale and depth solved from the number of layers with weights and
    checked on every shape, at `scales` (default: the family's); None when no such architecture fits (or the file is
    not a legacy `.h5`, or the family has no depth to solve for)."""
    from sr_tf import specs
    from sr_tf.weights_io import legacy_shapes, model_legacy_shapes

    saved = legacy_shapes(path)
    if not saved or not saved[0]:
        return None
    base = specs.architecture(preset)
    if not hasattr(base, "num_res_blocks"):
        return None
    width = saved[0][0][-1]
    wide = {"num_filters": width} if hasattr(base, "num_filters") else {}
    for scale in base.scales if scales is None else scales:
        counts = [len(model_legacy_shapes(base.replace(scale=scale, num_res_blocks=b, **wide).build()))
                  for b in (1, 2)]
        per_block = counts[1] - counts[0]
        blocks, rest = divmod(len(saved) - counts[0], per_block) if per_block else (-1, 1)
        if rest or blocks < 0:
            continue
        candidate = base.replace(scale=scale, num_res_blocks=blocks + 1, **wide)
        if model_legacy_shapes(candidate.build()) == saved:
            return candidate
    return None
