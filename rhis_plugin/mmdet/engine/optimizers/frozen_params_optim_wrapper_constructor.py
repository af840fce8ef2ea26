"""FrozenParamsOptimWrapperConstructor: mmengine's default constructor, with one log line for frozen parameters.

RHIS keeps its people-seg UNet frozen (and a frozen detector in ``mode='frozen'``): mmengine's
``DefaultOptimWrapperConstructor`` logs a warning per frozen tensor when ``paramwise_cfg`` is set (hundreds of
"... is skipped since its requires_grad=False" lines before training starts). This constructor builds the same
optimizer and says it once, with the count.
"""
from __future__ import annotations

import logging

import torch.nn as nn
from mmengine.logging import MMLogger, print_log
from mmengine.optim import DefaultOptimWrapperConstructor, OptimWrapper
from mmengine.registry import OPTIM_WRAPPER_CONSTRUCTORS

__all__ = ['FrozenParamsOptimWrapperConstructor']


class _FrozenSkips(logging.Filter):
    def __init__(self) -> None:
        super().__init__()
        self.count = 0

    def filter(self, record: logging.LogRecord) -> bool:
        if 'is skipped since its requires_grad=False' in record.getMessage():
            self.count += 1
            return False
        return True


@OPTIM_WRAPPER_CONSTRUCTORS.register_module()
class FrozenParamsOptimWrapperConstructor(DefaultOptimWrapperConstructor):
    """``DefaultOptimWrapperConstructor`` (same arguments, same optimizer) that reports frozen parameters in one
    line: ``optim_wrapper = dict(constructor='FrozenParamsOptimWrapperConstructor', ...)``."""

    def __call__(self, model: nn.Module) -> OptimWrapper:
        logger = MMLogger.get_current_instance()
        skips = _FrozenSkips()
        logger.addFilter(skips)
        try:
            return super().__call__(model)
        finally:
            logger.removeFilter(skips)
            if skips.count:
                print_log(f'{skips.count} frozen parameter tensors (requires_grad=False: the people-seg UNet, a frozen '
                          'detector) are not optimised', logger='current')
