"""mmdet integration. Importing this package registers rhis_plugin's components into mmdet's registries, laid
out as mmdet lays out its own:

- ``models.detectors``: ``RHISDetector`` (any mmdet detector + the RHIS head: joint, frozen detector or GT boxes),
  ``RHISTwoStageDetector`` (RHIS as a two-stage detector's mask branch), ``RHISRTDETR``;
- ``models.roi_heads``: ``RHISRoIHead``, ``RHISDistillRoIHead``, ``RHISMaskRoIHead``;
- ``models.necks`` / ``models.losses``: ``RHISHybridEncoder``, ``RHISVarifocalLoss`` (RT-DETR's parts);
- ``models.segmentors``: the people-seg stage, ``PeopleSegmentor`` and ``PeopleSegDistiller``;
- ``datasets.transforms``: ``PeopleSegTargets``, ``PackPeopleSegInputs``, ``MarkAnnotated``;
- ``evaluation.metrics``: ``BinarySegMetric``;
- ``engine.hooks``: ``DistillationScheduleHook``, ``BoundaryLossHook``, ``ProgressiveUnfreezeHook``;
- ``engine.optimizers``: ``FrozenParamsOptimWrapperConstructor`` (frozen parameters in one log line);
- ``runner``: checkpoint loading, command-line configs and short runs (not registered; used by the tools).

Configs import it with ``custom_imports = dict(imports=['rhis_plugin.mmdet'], allow_failed_imports=False)``.
"""
from .._optional import require

require('mmdet', extra='mmdet', feature='rhis_plugin.mmdet')
require('mmcv.ops', extra='mmdet', feature='rhis_plugin.mmdet (compiled mmcv ops)')

from .datasets import MarkAnnotated, PackPeopleSegInputs, PeopleSegTargets  # noqa: E402
from .engine import (BoundaryLossHook, DistillationScheduleHook, FrozenParamsOptimWrapperConstructor,  # noqa: E402
                     ProgressiveUnfreezeHook)
from .evaluation import BinarySegMetric  # noqa: E402
from .models import (PeopleSegDistiller, PeopleSegmentor, RHISDetector, RHISDistillRoIHead,  # noqa: E402
                     RHISHybridEncoder, RHISMaskRoIHead, RHISRoIHead, RHISRTDETR, RHISTwoStageDetector,
                     RHISVarifocalLoss)
from .runner import register_checkpoint_loader  # noqa: E402

register_checkpoint_loader()

__all__ = ['MarkAnnotated', 'PackPeopleSegInputs', 'PeopleSegTargets', 'BoundaryLossHook', 'DistillationScheduleHook',
           'ProgressiveUnfreezeHook', 'BinarySegMetric', 'PeopleSegDistiller', 'PeopleSegmentor', 'RHISDetector',
           'RHISDistillRoIHead', 'RHISHybridEncoder', 'RHISMaskRoIHead', 'RHISRoIHead', 'RHISRTDETR',
           'RHISTwoStageDetector', 'RHISVarifocalLoss', 'register_checkpoint_loader']
