"""What every model family's spec is made of, and the one registry of families and presets.

A family is an `Architecture` subclass: a frozen dataclass whose fields are its builder's arguments, whose
defaults are the builder's defaults, and whose `builder` names the function that builds it. A `Recipe` holds how
a family trains (steps, batch, learning rate, evaluation, the run's file names). A `Preset` is a named pair of
the two with a one-line description ("edsr-16-x4": the tutorial's published EDSR weights). This module imports
nothing of sr_tf but its errors: the builders, trainers and command lines read the specs, not the reverse.
"""

import dataclasses
import importlib
import os
import typing
from typing import ClassVar

from sr_tf.errors import Arg, UserInputError

FAMILIES = {}  # family name -> Architecture subclass
PRESETS = {}  # preset name -> Preset


CHECKPOINT_ROOT = ".ckpt"  # runs keep their checkpoints in CHECKPOINT_ROOT/<run name>


def checkpoint_folder(run):
    """The default checkpoint folder of the run named `run`: `.ckpt/<run>`, the one rule the command lines and
    the trainers' defaults share."""
    return os.path.join(CHECKPOINT_ROOT, run)


def _tuples(value):
    """JSON lists back to the tuples a frozen dataclass holds."""
    return tuple(_tuples(v) for v in value) if isinstance(value, list) else value


def _name_value(value):
    """A setting's value as it reads in a file name: (8, 8, 1) -> '8x8x1', None -> 'none', 0.1 -> '0.1'."""
    if isinstance(value, tuple):
        return "x".join(_name_value(v) for v in value)
    return str(value).lower()


def option(default, help, choices=None, minimum=None):
    """A field of an architecture spec with what its command-line flag `--<name>` says and takes: `help`, and the
    `choices` of a text field or the `minimum` of a number (None: 1 for an integer, above 0 for a float). Every
    field is a flag; `option` gives its flag a help text (a plain field's flag says only its default)."""
    return dataclasses.field(default=default, metadata={"help": help, "choices": choices, "minimum": minimum})


@dataclasses.dataclass(frozen=True)
class Flag:
    """A command-line flag generated from an architecture field: `--<name with dashes>`."""

    name: str
    type: type  # int, float or str (the field's annotation)
    help: str
    choices: tuple = None
    minimum: float = None

    @property
    def flag(self):
        """The flag as typed, e.g. '--num-filters'."""
        return "--" + self.name.replace("_", "-")


@dataclasses.dataclass(frozen=True)
class Architecture:
    """Base of the families' architecture specs: `dataclasses.asdict(spec)` are the builder's arguments.

    Besides its fields, a family says here what the rest of the package asks of it (class attributes):
    `kind` (what its models are, in messages), `exportable` (whether `sr_tf.export` writes it), `scales` (the
    upscaling factors it builds, for a super-resolution family), `aliases` (other names of the family on the
    command lines, e.g. the tutorial's 'srgan'), `default_preset` (the preset whose architecture a weights file of
    the family has when nothing else is said: the published weights'), and `commands` (train_srgan.py's commands
    that train it with the super-resolution trainers: {command: (help, default preset)}), `export_note` (what to
    do instead, for a family `sr_tf.export` does not write). How its PyTorch state
    dicts and ncnn graphs are recognised and converted is registered by its models module
    (`sr_tf.models.pytorch.register`, `sr_tf.models.ncnn.register`).
    """

    family: ClassVar[str] = ""
    builder: ClassVar[str] = ""  # "module:function", imported when the spec is built
    kind: ClassVar[str] = "model"
    exportable: ClassVar[bool] = False
    scales: ClassVar[tuple] = ()
    aliases: ClassVar[tuple] = ()
    default_preset: ClassVar[str] = None
    commands: ClassVar[dict] = {}
    export_note: ClassVar[str] = ""  # what to do instead, for a family that does not export

    @classmethod
    def flags(cls):
        """The command-line flags of the family's fields, in field order (see `option`)."""
        hints = typing.get_type_hints(cls)
        found = []
        for field in dataclasses.fields(cls):
            kind = hints.get(field.name, str)
            kind = kind if kind in (int, float, str) else str
            meta = field.metadata
            choices = cls.scales if field.name == "scale" and cls.scales else meta.get("choices")
            minimum = meta.get("minimum")
            minimum = None if kind is str or choices else (1 if kind is int else 0) if minimum is None else minimum
            found.append(Flag(field.name, kind, meta.get("help", ""), choices, minimum))
        return found

    def __post_init__(self):
        for field in dataclasses.fields(self):
            object.__setattr__(self, field.name, _tuples(getattr(self, field.name)))

    def arguments(self):
        """The builder's keyword arguments."""
        return dataclasses.asdict(self)

    def build(self):
        """Builds the model (a `sr_tf.models.Model` that remembers this spec)."""
        module, function = self.builder.split(":")
        model = getattr(importlib.import_module(module), function)(**self.arguments())
        model.spec = self
        return model

    def replace(self, **changes):
        """A copy with `changes`; an unknown name is a `UserInputError` listing the known ones."""
        names = [f.name for f in dataclasses.fields(self)]
        unknown = sorted(set(changes) - set(names))
        if unknown:
            parts = [part for name in unknown for part in (", ", Arg(name, api=name))][1:]
            raise UserInputError(f"The {self.family} architecture has no ", *parts, "; it has ",
                                 *[part for name in names for part in (", ", Arg(name, api=name))][1:], ".",
                                 argument=unknown[0])
        return dataclasses.replace(self, **changes)

    def get_config(self):
        """The spec as JSON-able data: {'family': ..., field: value, ...}."""
        return {"family": self.family, **dataclasses.asdict(self)}

    def describe(self):
        """One line: the family and every field, e.g. 'edsr(scale=4, num_filters=64, num_res_blocks=16, ...)'."""
        return f"{self.family}(" + ", ".join(f"{k}={v!r}" for k, v in dataclasses.asdict(self).items()) + ")"

    def name_fields(self):
        """The values a recipe's file-name templates may use: the fields, plus what a family adds."""
        return dataclasses.asdict(self)


@dataclasses.dataclass(frozen=True)
class Recipe:
    """How a family trains by default. Every family's recipe has these; families add their own fields.

    Attributes:
        steps: training steps (iterations).
        batch_size: examples per step, over all replicas.
        evaluate_every: steps between evaluations and checkpoints.
        learning_rate: a float, or (boundaries, values) of a piecewise-constant schedule.
        run: template of the run's name (checkpoint folder `.ckpt/<run>` and artifact names), formatted with the
            architecture's `name_fields()` and the data's name as `data`.
        weights_dir: template of the folder the final artifacts go to.
        artifact: template of the final files' name: `<artifact>.keras`, `<artifact>.weights.h5`.
    """

    steps: int
    batch_size: int
    evaluate_every: int
    learning_rate: object
    run: str
    weights_dir: str
    artifact: str = "{run}"

    def __post_init__(self):
        object.__setattr__(self, "learning_rate", _tuples(self.learning_rate))

    def checkpoint_dir(self, architecture, data=None, reference=None):
        """The run's default checkpoint folder: `checkpoint_folder` of `run_name(...)`."""
        return checkpoint_folder(self.run_name(architecture, data, reference))

    def run_name(self, architecture, data=None, reference=None):
        """The run's name, e.g. 'edsr-16-x4' or 'pixelcnn-digits-256'. With `reference` (the architecture of the
        preset the run started from), every setting that differs from it and that the template does not show
        already is appended as '-<setting>-<value>' ('edsr-4-x4-num-filters-32'), so runs that differ only
        there do not share a checkpoint folder or final files."""
        fields = architecture.name_fields()
        name = self.run.format(**fields, data=data)
        if reference is None:
            return name
        if reference.family != architecture.family:
            name += f"-{architecture.family}"
        for field in dataclasses.fields(architecture):
            value, preset_value = getattr(architecture, field.name), getattr(reference, field.name, None)
            if value == preset_value:
                continue
            if hasattr(reference, field.name):
                other = dataclasses.replace(architecture, **{field.name: preset_value}).name_fields()
                if self.run.format(**other, data=data) != self.run.format(**fields, data=data):
                    continue  # the template shows this setting already
            name += f"-{field.name.replace('_', '-')}-{_name_value(value)}"
        return name

    def artifact_name(self, architecture, data=None, reference=None):
        """The final files' name without suffix, e.g. 'edsr-16-x4', 'pre_generator' or 'pixelcnn-digits-256'."""
        return self.artifact.format(**architecture.name_fields(), run=self.run_name(architecture, data, reference))

    def weights_folder(self, architecture, data=None, reference=None):
        """The folder of the run's final artifacts, e.g. 'weights/edsr-16-x4'."""
        return self.weights_dir.format(**architecture.name_fields(), data=data,
                                       run=self.run_name(architecture, data, reference))

    def legacy_name(self, architecture, data=None, reference=None):
        """The name of the run's legacy Keras-2 `.h5` file, or None: the family writes none (the super-resolution
        recipes do)."""
        return None

    def replace(self, **changes):
        """A copy with `changes` (None values are left as they are: unset options)."""
        return dataclasses.replace(self, **{k: v for k, v in changes.items() if v is not None})


@dataclasses.dataclass(frozen=True)
class Preset:
    """A named architecture and recipe, e.g. the settings of published weights or of a demo."""

    name: str
    description: str
    architecture: Architecture
    recipe: Recipe


def starting_preset(recipe, architecture):
    """The architecture of the first registered preset of `architecture`'s family whose recipe has `recipe`'s run
    template (`edsr-16-x4`'s for an EDSR trained by the EDSR recipe), or None: what a run of this recipe starts
    from when no preset is named, so that a trainer's default `.ckpt/<run>` is the command line's."""
    for registered in PRESETS.values():
        if registered.architecture.family == architecture.family and registered.recipe.run == recipe.run:
            return registered.architecture
    return None


def register_family(cls):
    """Class decorator: registers an `Architecture` subclass under its `family` name."""
    if not cls.family or not cls.builder:
        raise TypeError(f"{cls.__name__} must set `family` and `builder`.")
    FAMILIES[cls.family] = cls
    return cls


def flags(classes):
    """The flags of several families' fields together (each name once, in the order first met; a scale's choices
    are all the families' scales), e.g. for a command that loads a model of any super-resolution family."""
    merged = {}
    for cls in classes:
        for flag in cls.flags():
            known = merged.get(flag.name)
            if known is None:
                merged[flag.name] = flag
            elif flag.choices and known.choices:
                choices = tuple(sorted(set(known.choices) | set(flag.choices), key=str))
                merged[flag.name] = dataclasses.replace(known, choices=choices)
    return list(merged.values())


def families(base=None, **where):
    """The registered family classes (subclasses of `base`, when given) whose class attributes equal `where`, in
    registration order: `families(exportable=True)`, `families(SrArchitecture)`."""
    return [cls for cls in FAMILIES.values() if (base is None or issubclass(cls, base))
            and all(getattr(cls, k) == v for k, v in where.items())]


def family_names(base=None):
    """The names the command lines' --model takes for the families (subclasses of `base`): each family's aliases
    and name, e.g. 'srgan' (SRResNet, the tutorial's name), 'srresnet', 'edsr', 'wdsr', ..."""
    return [name for cls in families(base) for name in (*cls.aliases, cls.family)]


def family_by_name(name, base=None):
    """The family class called `name` or one of its `aliases` (among subclasses of `base`); a `UserInputError`
    lists the names known otherwise."""
    for cls in families(base):
        if name == cls.family or name in cls.aliases:
            return cls
    raise UserInputError(f"Unknown model {name!r}; expected one of {', '.join(family_names(base))}.",
                         argument="model")


def default_architecture(cls, **overrides):
    """The architecture a weights file of family `cls` has when nothing else is said: its `default_preset`'s (the
    published weights'), else the builder's defaults; with `overrides` (None: unset)."""
    return architecture(cls.default_preset or cls.family, **overrides)


def register_preset(name, description, architecture, recipe):
    """Registers a preset (a name may be registered once)."""
    if name in PRESETS:
        raise ValueError(f"Preset {name!r} is registered twice.")
    PRESETS[name] = Preset(name, description, architecture, recipe)
    return PRESETS[name]


def preset(name):
    """The `Preset` called `name`; a `UserInputError` lists the known ones otherwise."""
    if name not in PRESETS:
        raise UserInputError(f"Unknown preset {name!r}. Known presets: {', '.join(sorted(PRESETS))}.")
    return PRESETS[name]


def presets():
    """{preset name: its one-line description}, sorted by name."""
    return {name: PRESETS[name].description for name in sorted(PRESETS)}


def family(name):
    """The `Architecture` class of a family; a `UserInputError` lists the known ones otherwise."""
    if name not in FAMILIES:
        raise UserInputError(f"Unknown model family {name!r}. Known families: {', '.join(sorted(FAMILIES))}.")
    return FAMILIES[name]


def architecture(name, **overrides):
    """The architecture of a preset or of a family (its builder's defaults), with `overrides` applied.

    `architecture("edsr-16-x4", scale=2)` and `architecture("edsr", num_res_blocks=16)` both work; an override of
    None is ignored (an unset option), 0 is a value.
    """
    given = {k: v for k, v in overrides.items() if v is not None}
    if name in PRESETS:
        return PRESETS[name].architecture.replace(**given)
    if name not in FAMILIES:
        raise UserInputError(f"Unknown model {name!r}: expected a preset ({', '.join(sorted(PRESETS))}) or a "
                             f"family ({', '.join(sorted(FAMILIES))}).")
    return FAMILIES[name]().replace(**given)


def from_config(config):
    """An architecture from `Architecture.get_config()` data (as stored in a `.keras` file)."""
    config = dict(config)
    cls = family(config.pop("family", None))
    known = {f.name for f in dataclasses.fields(cls)}
    return cls(**{k: v for k, v in config.items() if k in known})
