"""Named RHIS configurations and the one builder, ``build_rhis``.

Names read ``<family>_<encoder>_<roi height>x<roi width>``: ``rhis_b0_64x48`` is this package's head with
EfficientNet-B0 encoders (people-seg UNet and ROI encoder) and 64x48 ROIs (128x96 masks);
``upstream_b0_64x48`` is the reference architecture with the same UNet and ROI size. Benchmark baselines on the
B0 UNet: ``fcn_b0_14x14`` (Mask R-CNN's FCN head, 28x28 masks), ``unet_in_box_b0`` and ``box_filled``.
"""
from __future__ import annotations

import difflib
from dataclasses import fields
from typing import Any

from .baselines import BoxFilledBaseline, FCNMaskBaseline, UNetInBoxBaseline
from .rhis import RHIS, RHISConfig
from .upstream import UpstreamRHIS

__all__ = ['list_presets', 'preset_config', 'build_rhis', 'build_from_config']

_ENCODERS = {
    'b0': dict(unet_encoder='timm-efficientnet-b0', roi_encoder='efficientnet_b0'),
    'b1': dict(unet_encoder='timm-efficientnet-b1', roi_encoder='efficientnet_b1'),
    'b7': dict(unet_encoder='timm-efficientnet-b7', roi_encoder='efficientnet_b7',
               decoder_channels=(160, 96, 64, 48, 32), branch_channels=32),
}
_ROI_SIZES = {'64x48': (64, 48), '80x60': (80, 60), '128x96': (128, 96)}

_PRESETS: dict[str, dict[str, Any]] = {
    f'rhis_{enc}_{size}': dict(architecture='rhis', roi_size=_ROI_SIZES[size], **_ENCODERS[enc])
    for enc in _ENCODERS for size in _ROI_SIZES
}
# The reference's released combinations.
_PRESETS['upstream_b0_64x48'] = dict(architecture='upstream', unet_encoder='timm-efficientnet-b0', roi_size=(64, 48))
_PRESETS['upstream_b1_80x60'] = dict(architecture='upstream', unet_encoder='timm-efficientnet-b1', roi_size=(80, 60))
# Baselines for the benchmarks.
_PRESETS['fcn_b0_14x14'] = dict(architecture='fcn', unet_encoder='timm-efficientnet-b0', roi_size=(14, 14))
_PRESETS['unet_in_box_b0'] = dict(architecture='unet_in_box', unet_encoder='timm-efficientnet-b0', roi_size=(64, 48))
_PRESETS['box_filled'] = dict(architecture='box_filled', unet_encoder='timm-efficientnet-b0', roi_size=(64, 48))
_BUILDERS = {'rhis': RHIS, 'upstream': UpstreamRHIS, 'fcn': FCNMaskBaseline, 'unet_in_box': UNetInBoxBaseline,
             'box_filled': BoxFilledBaseline}


def list_presets(family: str | None = None) -> list[str]:
    """Preset names, optionally only those of one family (``'rhis'``, ``'upstream'``, ``'fcn'`` ...)."""
    return sorted(name for name in _PRESETS if family is None or name.startswith(family + '_'))


def preset_config(preset: str, **overrides: Any) -> RHISConfig:
    """The :class:`RHISConfig` of a preset with fields replaced by ``overrides``."""
    if preset not in _PRESETS:
        close = difflib.get_close_matches(preset, _PRESETS, n=3)
        hint = f' Did you mean {", ".join(close)}?' if close else ''
        raise ValueError(f'unknown RHIS preset {preset!r}.{hint} Available: {", ".join(list_presets())}')
    valid = {f.name for f in fields(RHISConfig)}
    unknown = sorted(set(overrides) - valid)
    if unknown:
        raise ValueError(f'unknown RHIS option(s) {unknown}; valid options: {sorted(valid)}')
    return RHISConfig(**{**_PRESETS[preset], **overrides})


def build_from_config(cfg: RHISConfig) -> RHIS:
    """Builds the model a config describes (random init; see :mod:`rhis_plugin.models.pretrained`)."""
    return _BUILDERS[cfg.architecture](cfg)


def build_rhis(preset: str = 'rhis_b0_64x48', **overrides: Any) -> RHIS:
    """Builds an RHIS model from a preset, with random weights (load weights with :func:`load_rhis` & co.).

    Args:
        preset: a name from :func:`list_presets`, ``<family>_<encoder>_<roi height>x<roi width>``.
        **overrides: :class:`RHISConfig` fields to change (e.g. ``freeze_unet=False``, ``aux_heads=False``).

    Returns:
        The :class:`RHIS` model, in training mode.

    Raises:
        ValueError: an unknown preset (the message lists them) or option.

    Example:
        >>> model = build_rhis('rhis_b0_64x48', aux_heads=False)
        >>> model.mask_size
        (128, 96)
    """
    return build_from_config(preset_config(preset, **overrides))
