"""Super-resolution families (EDSR, WDSR, SRResNet/SRGAN): architectures, training recipes and presets.

The architectures' defaults are their builders' (the tutorial's); the presets hold the settings of the
tutorial's published weights and of the offline demo.
"""

import dataclasses
from typing import ClassVar

from sr_tf.specs.base import Architecture, Recipe, option, register_family, register_preset

# WDSR's residual expansion by block type when `res_block_expansion` is None (the papers' 4 for A, 6 for B).
WDSR_EXPANSION = {"a": 4, "b": 6}


@dataclasses.dataclass(frozen=True)
class SrArchitecture(Architecture):
    """What the super-resolution families share: the upscaling factor, and `scale_suffix` for file names
    ('' at x4, the tutorial's, else '-x<scale>'). Their models take and give RGB in 0..255, resolve and export."""

    kind: ClassVar[str] = "super-resolution"
    exportable: ClassVar[bool] = True
    scales: ClassVar[tuple] = (2, 3, 4, 8)
    scale: int = option(4, "upscaling factor")

    def name_fields(self):
        return {**super().name_fields(), "scale_suffix": "" if self.scale == 4 else f"-x{self.scale}"}


@register_family
@dataclasses.dataclass(frozen=True)
class Edsr(SrArchitecture):
    """EDSR (`sr_tf.models.edsr.edsr`)."""

    family = "edsr"
    builder = "sr_tf.models.edsr:edsr"
    default_preset = "edsr-16-x4"
    commands = {"edsr": ("EDSR training (L1)", "edsr-16-x4")}
    num_filters: int = option(64, "filters of each convolution")
    num_res_blocks: int = option(8, "residual blocks")
    res_block_scaling: float = option(None, "scaling of each residual branch (unset: none)")


@register_family
@dataclasses.dataclass(frozen=True)
class Wdsr(SrArchitecture):
    """WDSR-A or -B (`sr_tf.models.wdsr.wdsr_a`, `wdsr_b`); `res_block_expansion` None is the type's default."""

    family = "wdsr"
    builder = "sr_tf.models.wdsr:build_wdsr"
    default_preset = "wdsr-b-32-x4"
    commands = {"wdsr": ("WDSR training (L1)", "wdsr-b-32-x4")}
    num_filters: int = option(32, "filters of each convolution")
    num_res_blocks: int = option(8, "residual blocks")
    wdsr_type: str = option("b", "WDSR-A or -B", choices=tuple(WDSR_EXPANSION))
    res_block_expansion: int = option(None, "expansion of each residual block (unset: the type's, 4 for A, 6 for B)")
    res_block_scaling: float = option(None, "scaling of each residual branch (unset: none)")

    def __post_init__(self):
        super().__post_init__()
        if self.res_block_expansion is None and self.wdsr_type in WDSR_EXPANSION:
            object.__setattr__(self, "res_block_expansion", WDSR_EXPANSION[self.wdsr_type])

    def replace(self, **changes):
        """As `Architecture.replace`; another `wdsr_type` without an expansion takes that type's default."""
        if "wdsr_type" in changes and "res_block_expansion" not in changes:
            changes["res_block_expansion"] = None
        return super().replace(**changes)


@register_family
@dataclasses.dataclass(frozen=True)
class Srresnet(SrArchitecture):
    """The SRResNet generator that SRGAN trains further (`sr_tf.models.srgan.generator`)."""

    family = "srresnet"
    builder = "sr_tf.models.srgan:generator"
    scales = (2, 4, 8)
    aliases = ("srgan",)
    default_preset = "srresnet-x4"
    commands = {"pretrain": ("SRResNet pre-training (MSE)", "srresnet-x4"),
                "gan": ("SRGAN training", "srgan-x4")}
    num_filters: int = option(64, "filters of each convolution")
    num_res_blocks: int = option(16, "residual blocks")


@dataclasses.dataclass(frozen=True)
class SrRecipe(Recipe):
    """A super-resolution training recipe (the tutorial's unless noted).

    Attributes (besides `Recipe`'s):
        loss: 'l1', 'mse' or 'gan' (VGG content loss plus adversarial loss).
        save_best_only: write periodic checkpoints only when the validation PSNR improves.
        legacy: template of the legacy Keras-2 `.h5` file the tutorial wrote, in the same folder.
        lr_decay_at: fraction of the steps after which the learning rate drops tenfold (1: never; the demo's).
        content_loss: SRGAN's VGG19 layer of the content loss, 'VGG54' (the paper's best) or 'VGG22'.
        feature_scale: SRGAN's VGG features are divided by it before their MSE (12.75: the tutorial's, after the
            paper's rescaling of the feature maps).
        adversarial_weight: weight of SRGAN's adversarial loss next to the content loss (the paper's 1e-3).
    """

    loss: str = "l1"
    save_best_only: bool = True
    legacy: str = "weights.h5"
    lr_decay_at: float = 1.0
    content_loss: str = "VGG54"
    feature_scale: float = 12.75
    adversarial_weight: float = 1e-3

    def legacy_name(self, architecture, data=None, reference=None):
        """The legacy `.h5` file's name, e.g. 'weights.h5' or 'pre_generator.h5'."""
        return self.legacy.format(**architecture.name_fields(),
                                  artifact=self.artifact_name(architecture, data, reference))


RECIPES = {
    "pretrain": SrRecipe(1_000_000, 16, 1000, 1e-4, run="pre_generator{scale_suffix}",
                         weights_dir="weights/srgan{scale_suffix}", loss="mse", save_best_only=False,
                         artifact="pre_generator", legacy="pre_generator.h5"),
    "gan": SrRecipe(200_000, 16, 1000, ([100_000], [1e-4, 1e-5]), run="srgan{scale_suffix}",
                    weights_dir="weights/srgan{scale_suffix}", loss="gan", save_best_only=False,
                    artifact="gan_generator", legacy="gan_generator.h5"),
    "edsr": SrRecipe(300_000, 16, 1000, ([200_000], [1e-4, 5e-5]), run="edsr-{num_res_blocks}-x{scale}",
                     weights_dir="weights/{run}"),
    "wdsr": SrRecipe(300_000, 16, 1000, ([200_000], [1e-3, 5e-4]),
                     run="wdsr-{wdsr_type}-{num_res_blocks}-x{scale}", weights_dir="weights/{run}"),
    # The offline demo: a small EDSR on three bundled photos for a few CPU minutes, the rate ten times lower
    # for the last quarter (a constant rate leaves a colour bias of about one grey level).
    "demo": SrRecipe(1200, 16, 200, 5e-4, run="demo", weights_dir="weights/demo", artifact="edsr-demo-x{scale}",
                     legacy="{artifact}.h5", lr_decay_at=0.75),
}

register_preset("edsr-16-x4", "EDSR baseline x4, 16 blocks of 64 filters: the tutorial's published EDSR weights",
                Edsr(scale=4, num_filters=64, num_res_blocks=16), RECIPES["edsr"])
register_preset("wdsr-b-32-x4", "WDSR-B x4, 32 blocks of 32 filters: the tutorial's published WDSR weights",
                Wdsr(scale=4, num_filters=32, num_res_blocks=32, wdsr_type="b"), RECIPES["wdsr"])
register_preset("srresnet-x4", "SRResNet x4 pre-trained with MSE: the tutorial's pre_generator.h5",
                Srresnet(), RECIPES["pretrain"])
register_preset("srgan-x4", "SRGAN x4 generator (SRResNet trained with VGG54 and adversarial losses): the "
                "tutorial's gan_generator.h5", Srresnet(), RECIPES["gan"])
register_preset("demo", "Small EDSR x4 (32 filters, 4 blocks) trained by `train_srgan.py demo` on the bundled "
                "photos in a few CPU minutes", Edsr(scale=4, num_filters=32, num_res_blocks=4), RECIPES["demo"])

# The preset whose architecture a legacy `.h5` file of each family has when nothing else is said (the
# tutorial's published weights; such files carry no architecture): each family's `default_preset`.
LEGACY_PRESETS = {cls.family: cls.default_preset for cls in (Edsr, Wdsr, Srresnet)}
