"""Every config parses, imports the plugin and builds its model."""
import re
from pathlib import Path

import pytest
from mmengine.config import Config

import rhis_plugin.mmdet  # noqa: F401
from mmdet.registry import MODELS

ROOT = Path(__file__).resolve().parents[2] / 'configs' / 'mmdet'
CONFIGS = sorted(p for p in ROOT.rglob('*.py') if '_base_' not in p.parts)
NAME = {p: str(p.relative_to(ROOT)) for p in CONFIGS}


def test_expected_configs_exist():
    names = set(NAME.values())
    encoders = ('b0', 'b1', 'b7', 'mobilenetv3-large', 'mobilenetv3-small')
    assert {f'peopleseg/peopleseg-unet_{e}_1xb4-50e_coco-person-lb320.py' for e in encoders} <= names
    assert {f'peopleseg/peopleseg-unet_{e}_1xb2-50e_coco-person-640x640.py' for e in encoders} <= names
    assert {'kd/kd_peopleseg-unet-b7-to-b0_1xb4-50e_coco-person-lb320.py',
            'kd/kd_peopleseg-unet-b7-to-b1_1xb4-50e_coco-person-lb320.py',
            'kd/kd_rhis-b7-to-b0_gt-boxes_1xb4-36e_coco-person.py'} <= names
    schedule = '1xb4-36e_coco-person.py'
    assert {f'rhis/rhis-{b}_{d}_{schedule}' for b in ('b0', 'b1', 'b7') for d in ('gt-boxes', 'rtdetr-r18')} <= names
    assert {f'rhis/rhis-b0_rtdetr-r18-frozen_{schedule}', f'rhis/rhis-b0_rtmdet-tiny_{schedule}',
            f'rhis/rhis-b0_faster-rcnn_r18_fpn_{schedule}', f'rtdetr/rtdetr_r18_{schedule}',
            'mask_rcnn/mask-rcnn_r18_fpn_gn_1xb2-6e_people-384.py'} <= names


def test_config_names_follow_mmdet_convention():
    """{algorithm}_{components}_{N}xb{B}-{schedule}_{dataset}.py, in a folder with a README that lists each one."""
    pattern = re.compile(r'^[a-z0-9-]+(_[a-z0-9-]+)*_\d+xb\d+-\d+[ek]?_[a-z0-9-]+\.py$')
    for path in CONFIGS:
        assert pattern.match(path.name), path.name
        readme = path.parent / 'README.md'
        assert readme.is_file(), f'{path.parent} has no README'
        text = readme.read_text()
        assert path.name in text or _family(path.name) in text, f'{readme} does not list {path.name}'


def _family(name: str) -> str:
    """A README may list a family of configs with braces, e.g. peopleseg-unet_{b0,b1,b7}_...: the shared tail."""
    return name.split('_', 2)[-1]


@pytest.mark.parametrize('path', CONFIGS, ids=lambda p: NAME[p])
def test_config_builds(path):
    cfg = Config.fromfile(str(path))
    assert cfg.custom_imports['imports'] == ['rhis_plugin.mmdet']
    assert cfg.default_scope == 'mmdet'
    if 'peopleseg' in path.parts or cfg.model.type == 'PeopleSegDistiller':
        assert cfg.val_evaluator['type'] == 'BinarySegMetric'
    else:
        assert 'segm' in cfg.val_evaluator['metric'] or path.parent.name == 'rtdetr'
    model_cfg = cfg.model
    if model_cfg.get('mode') == 'frozen':
        model_cfg.detector_checkpoint = 'unused.pth'     # only checked for presence at build time
    model = MODELS.build(model_cfg)
    assert sum(p.numel() for p in model.parameters()) > 0


def test_starter_config_runs_on_a_fresh_clone():
    """The starter config needs nothing from work_dirs/: its head and UNet are the bundled model's."""
    import torch

    from rhis_plugin.models import load_rhis
    from rhis_plugin.models.weights_origin import has_random_peopleseg
    from rhis_plugin.weights import resolve_weights
    cfg = Config.fromfile(str(ROOT / 'rhis' / 'rhis-lite0-starter_gt-boxes_1xb4-36e_coco-person.py'))
    model = MODELS.build(cfg.model)
    model.init_weights()
    starter = load_rhis(resolve_weights('starter'), aux_heads=model.roi_head.rhis.cfg.aux_heads)
    ours = model.roi_head.rhis.state_dict()
    for key, value in starter.state_dict().items():
        assert torch.equal(ours[key], value.to(ours[key].dtype)), key
    assert not has_random_peopleseg(model.roi_head.rhis)
