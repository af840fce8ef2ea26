"""Every config parses, imports the plugin and builds its model."""
from pathlib import Path

import pytest
from mmengine.config import Config

import rhis_plugin.mmdet  # noqa: F401
from mmdet.registry import MODELS

CONFIGS = sorted((Path(__file__).resolve().parents[2] / 'configs' / 'mmdet').glob('*.py'))


def test_expected_configs_exist():
    names = {p.name for p in CONFIGS}
    assert {'rhis_rtdetr.py', 'rhis_rtdetr_frozen.py', 'rhis_rtmdet_tiny.py', 'rhis_b0_gtbox.py', 'rhis_b1_gtbox.py',
            'rhis_b7_gtbox.py', 'rhis_b1_rtdetr.py', 'rhis_b7_rtdetr.py', 'rtdetr_r18_coco_person.py'} <= names


@pytest.mark.parametrize('path', CONFIGS, ids=lambda p: p.name)
def test_config_builds(path):
    cfg = Config.fromfile(str(path))
    assert cfg.custom_imports['imports'] == ['rhis_plugin.mmdet']
    assert cfg.default_scope == 'mmdet'
    assert 'segm' in cfg.val_evaluator['metric'] or path.name.startswith('rtdetr')
    model_cfg = cfg.model
    if model_cfg.get('mode') == 'frozen':
        model_cfg.detector_checkpoint = 'unused.pth'     # only checked for presence at build time
    model = MODELS.build(model_cfg)
    assert sum(p.numel() for p in model.parameters()) > 0
