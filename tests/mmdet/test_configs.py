"""Every config parses, imports the plugin and builds its model."""
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
    sizes = ('320x180', '640x640')
    assert {f'peopleseg/unet_{e}_{s}.py' for e in ('b0', 'b1', 'b7', 'mobilenetv3_large', 'mobilenetv3_small')
            for s in sizes} <= names
    assert {'kd/unet_b7_to_b0.py', 'kd/unet_b7_to_b1.py', 'kd/rhis_b7_to_b0.py'} <= names
    assert {'rhis_rtdetr.py', 'rhis_rtdetr_frozen.py', 'rhis_rtmdet_tiny.py', 'rhis_b0_gtbox.py', 'rhis_b1_gtbox.py',
            'rhis_b7_gtbox.py', 'rhis_b1_rtdetr.py', 'rhis_b7_rtdetr.py', 'rtdetr_r18_coco_person.py'} <= names


@pytest.mark.parametrize('path', CONFIGS, ids=lambda p: NAME[p])
def test_config_builds(path):
    cfg = Config.fromfile(str(path))
    assert cfg.custom_imports['imports'] == ['rhis_plugin.mmdet']
    assert cfg.default_scope == 'mmdet'
    if 'peopleseg' in path.parts or cfg.model.type == 'PeopleSegDistiller':
        assert cfg.val_evaluator['type'] == 'BinarySegMetric'
    else:
        assert 'segm' in cfg.val_evaluator['metric'] or path.name.startswith('rtdetr')
    model_cfg = cfg.model
    if model_cfg.get('mode') == 'frozen':
        model_cfg.detector_checkpoint = 'unused.pth'     # only checked for presence at build time
    model = MODELS.build(model_cfg)
    assert sum(p.numel() for p in model.parameters()) > 0
