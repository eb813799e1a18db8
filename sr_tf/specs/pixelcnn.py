"""PixelCNN families (the tutorial's PixelCNN and the Gated PixelCNN): architectures, recipes and presets by
dataset."""

import dataclasses

from sr_tf.specs.base import Architecture, Recipe, register_family, register_preset

HEADS = ("softmax", "logistic_mixture")  # the output heads: a categorical per value, PixelCNN++'s mixture


@dataclasses.dataclass(frozen=True)
class PixelCNNArchitecture(Architecture):
    """What both PixelCNN families share; `name_fields` adds `model`, `conditional` and `head_suffix`."""

    kind = "PixelCNN"
    export_note = "a PixelCNN samples pixel by pixel in Python: use train_pixelcnn.py sample"
    model_name = ""
    input_shape: tuple = (28, 28, 1)
    levels: int = 256
    head: str = "softmax"
    num_mixtures: int = 10

    def name_fields(self):
        return {**super().name_fields(), "model": self.model_name,
                "conditional": "-conditional" if getattr(self, "num_classes", None) else "",
                "head_suffix": f"-mix{self.num_mixtures}" if self.head == "logistic_mixture" else ""}


@register_family
@dataclasses.dataclass(frozen=True)
class PixelCNN(PixelCNNArchitecture):
    """The tutorial's PixelCNN (`sr_tf.models.pixelcnn.pixelcnn`)."""

    family = "pixelcnn"
    builder = "sr_tf.models.pixelcnn:pixelcnn"
    model_name = "pixelcnn"
    num_res_blocks: int = 15
    hidden: int = 128
    batchnorm: bool = True


@register_family
@dataclasses.dataclass(frozen=True)
class GatedPixelCNN(PixelCNNArchitecture):
    """The Gated PixelCNN (`sr_tf.models.pixelcnn.gated_pixelcnn`); `num_classes` makes it class-conditional."""

    family = "gated_pixelcnn"
    builder = "sr_tf.models.pixelcnn:gated_pixelcnn"
    model_name = "gated"
    num_layers: int = 7
    hidden: int = 64
    kernel_size: int = 3
    first_kernel_size: int = 7
    num_classes: int = None


@dataclasses.dataclass(frozen=True)
class PixelCNNRecipe(Recipe):
    """A PixelCNN training recipe: Adam at `learning_rate` (the tutorial's 1e-3), best checkpoint by validation
    bits/dim."""

    learning_rate: float = 1e-3
    run: str = "{model}{conditional}-{data}-{levels}{head_suffix}"
    weights_dir: str = "weights/pixelcnn"


RECIPES = {
    "mnist": PixelCNNRecipe(steps=20_000, batch_size=128, evaluate_every=1000),
    "digits": PixelCNNRecipe(steps=800, batch_size=64, evaluate_every=100),
    "folder": PixelCNNRecipe(steps=5000, batch_size=64, evaluate_every=250),
}
DIGITS_SHAPE = (8, 8, 1)

register_preset("pixelcnn-mnist", "The tutorial's PixelCNN on MNIST 28x28 (15 residual blocks, h=128)",
                PixelCNN(), RECIPES["mnist"])
register_preset("gated-pixelcnn-mnist", "Gated PixelCNN on MNIST 28x28 (7 gated layers of 64 channels)",
                GatedPixelCNN(), RECIPES["mnist"])
register_preset("pixelcnn-digits", "PixelCNN sized for the bundled 8x8 digits (4 blocks, h=32; about a CPU minute)",
                PixelCNN(input_shape=DIGITS_SHAPE, num_res_blocks=4, hidden=32), RECIPES["digits"])
register_preset("gated-pixelcnn-digits", "Gated PixelCNN sized for the bundled 8x8 digits (4 layers of 32)",
                GatedPixelCNN(input_shape=DIGITS_SHAPE, num_layers=4, hidden=32), RECIPES["digits"])
register_preset("pixelcnn-folder", "PixelCNN for a folder of your images (5 blocks, h=64; set the image shape)",
                PixelCNN(num_res_blocks=5, hidden=64), RECIPES["folder"])
register_preset("gated-pixelcnn-folder", "Gated PixelCNN for a folder of your images (5 layers of 64)",
                GatedPixelCNN(num_layers=5, hidden=64), RECIPES["folder"])

# The preset of each command-line --model and --data choice.
PRESET_OF = {(model, data): f"{'gated-' if model == 'gated' else ''}pixelcnn-{data}"
             for model in ("pixelcnn", "gated") for data in RECIPES}
