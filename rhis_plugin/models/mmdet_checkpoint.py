"""mmdet checkpoints of RHIS detectors as RHIS checkpoints, without importing mmdet or mmengine.

An mmengine checkpoint stores the model's weights under the detector's module names and the whole config as
Python text in ``meta['cfg']``. The RHIS part is ``roi_head.rhis.*`` (``RHISDetector``, ``RHISDistillRoIHead``) or
``roi_head.rhis_head.rhis.*`` (``RHISTwoStageDetector``); its preset and options come from the config's
``model.roi_head`` (``rhis=dict(...)`` for the two-stage head), read with :mod:`ast` (never executed). The UNet's
origin is the head's record (``roi_head.peopleseg_weights`` / ``roi_head.rhis_head.peopleseg_weights``); checkpoints
written before it existed fall back to the config's ``peopleseg_checkpoint`` / ``rhis_checkpoint``, else unknown.
"""
from __future__ import annotations

import ast
from pathlib import Path
from typing import Any

from .weights_origin import ORIGIN_KEY, origin_from_tensor

__all__ = ['RHIS_PREFIXES', 'is_mmdet_rhis_checkpoint', 'mmdet_to_rhis_payload', 'config_assignments']

RHIS_PREFIXES = ('roi_head.rhis_head.rhis.', 'roi_head.rhis.')
_DEFAULT_PRESET = 'rhis_b0_64x48'     # RHISRoIHead's default


def _state(payload: dict) -> dict:
    state = payload.get('state_dict', payload)
    return state if isinstance(state, dict) else {}


def _prefix(payload: dict) -> str | None:
    keys = list(_state(payload))
    return next((p for p in RHIS_PREFIXES if any(k.startswith(p) for k in keys)), None)


def is_mmdet_rhis_checkpoint(payload: Any) -> bool:
    """True for an mmdet checkpoint (or state dict) holding an RHIS head's weights."""
    return isinstance(payload, dict) and _prefix(payload) is not None


def _value(node: ast.AST) -> Any:
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == 'dict' and not node.args:
        return {kw.arg: _value(kw.value) for kw in node.keywords}
    if isinstance(node, ast.Dict):
        return {_value(k): _value(v) for k, v in zip(node.keys, node.values)}
    if isinstance(node, (ast.List, ast.Tuple)):
        items = [_value(e) for e in node.elts]
        return items if isinstance(node, ast.List) else tuple(items)
    try:
        return ast.literal_eval(node)
    except ValueError:
        return None          # an expression a config may hold but RHIS does not need (left out, not executed)


def config_assignments(text: str) -> dict[str, Any]:
    """Top-level ``name = value`` assignments of an mmengine config dumped as Python text."""
    values = {}
    for statement in ast.parse(text).body:
        if isinstance(statement, ast.Assign) and len(statement.targets) == 1 \
                and isinstance(statement.targets[0], ast.Name):
            values[statement.targets[0].id] = _value(statement.value)
    return values


def mmdet_to_rhis_payload(payload: dict, source: str | Path = 'checkpoint') -> dict:
    """``{'rhis_config', 'state_dict', 'meta'}`` (what ``save_rhis`` writes) from an mmdet RHIS checkpoint."""
    from .presets import preset_config

    prefix = _prefix(payload)
    if prefix is None:
        raise ValueError(f'{source} holds no RHIS weights (no {" / ".join(RHIS_PREFIXES)} keys)')
    text = (payload.get('meta') or {}).get('cfg')
    if not isinstance(text, str):
        raise ValueError(f'{source} is an mmdet checkpoint without its config (meta["cfg"]): the RHIS preset is '
                         'unknown; re-save it with mmengine, or load the weights into build_rhis(PRESET)')
    roi_head = (config_assignments(text).get('model') or {}).get('roi_head') or {}
    head = roi_head.get('rhis', roi_head) if prefix.startswith('roi_head.rhis_head.') else roi_head
    preset = head.get('preset', _DEFAULT_PRESET)
    cfg = preset_config(preset, **(head.get('rhis_options') or {}))
    record = _state(payload).get(prefix[:-len('rhis.')] + ORIGIN_KEY)
    if record is not None:
        origin = origin_from_tensor(record)
    else:        # written before the record: what the config loaded, else unknown
        origin = head.get('rhis_checkpoint') or head.get('peopleseg_checkpoint')
    state = {k[len(prefix):]: v for k, v in _state(payload).items() if k.startswith(prefix)}
    return {'rhis_config': cfg.to_dict(), 'state_dict': state,
            'meta': {'preset': preset, 'source': f'mmdet checkpoint {source}',
                     ORIGIN_KEY: None if origin is None else str(origin)}}
