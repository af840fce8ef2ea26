"""Frozen parameters are reported in one log line (mmengine logs one per tensor), and the optimizer is the default's."""
import logging
from pathlib import Path

from mmengine.config import Config
from mmengine.logging import MMLogger
from mmengine.registry import OPTIM_WRAPPERS, OPTIM_WRAPPER_CONSTRUCTORS

import rhis_plugin.mmdet  # noqa: F401
from mmdet.registry import MODELS

ROOT = Path(__file__).resolve().parents[4]


class _Records(logging.Handler):
    def __init__(self):
        super().__init__()
        self.messages = []

    def emit(self, record):
        self.messages.append(record.getMessage())


def test_frozen_unet_is_one_line_and_not_optimised():
    cfg = Config.fromfile(str(ROOT / 'configs/mmdet/rhis/rhis-lite0-starter_gt-boxes_1xb4-36e_coco-person.py'))
    assert cfg.optim_wrapper.constructor == 'FrozenParamsOptimWrapperConstructor'
    model = MODELS.build(cfg.model)
    frozen = [p for p in model.parameters() if not p.requires_grad]
    assert len(frozen) > 50                                     # the people-seg UNet
    logger = MMLogger.get_instance('frozen_params_test', log_level='INFO')
    records = _Records()
    logger.addHandler(records)
    options = cfg.optim_wrapper.to_dict()
    constructor = OPTIM_WRAPPER_CONSTRUCTORS.build(dict(
        type=options.pop('constructor'), optim_wrapper_cfg=options,
        paramwise_cfg=options.pop('paramwise_cfg', None)))
    wrapper = constructor(model)
    logger.removeHandler(records)
    skipped = [m for m in records.messages if 'requires_grad=False' in m]
    assert len(skipped) == 1 and str(len(frozen)) in skipped[0], records.messages[:5]
    optimised = {id(p) for group in wrapper.optimizer.param_groups for p in group['params']}
    assert not optimised & {id(p) for p in frozen}
    assert optimised == {id(p) for p in model.parameters() if p.requires_grad}
