"""mmdet integration. Importing this package registers rhis_plugin's components into mmdet's registries:

- instance head: ``RHISDetector``, ``RHISRoIHead``, ``RHISDistillRoIHead``, ``RHISTwoStageDetector`` +
  ``RHISMaskRoIHead`` (RHIS as the mask branch of a Faster R-CNN style detector);
- detectors: ``RTDETR``, ``HybridEncoder``, ``RTDETRVarifocalLoss``;
- people-seg stage: ``PeopleSegmentor``, ``PeopleSegDistiller``, ``PersonSegTargets``, ``PackPeopleSegInputs``,
  ``BinarySegMetric``;
- training hooks: ``DistillationScheduleHook``, ``BoundaryLossHook``, ``ProgressiveUnfreezeHook``.

Configs import it with ``custom_imports = dict(imports=['rhis_plugin.mmdet'], allow_failed_imports=False)``.
"""
from .._optional import require

require('mmdet', extra='mmdet', feature='rhis_plugin.mmdet')
require('mmcv.ops', extra='mmdet', feature='rhis_plugin.mmdet (compiled mmcv ops)')

from .binary_seg_metric import BinarySegMetric  # noqa: E402
from .boundary_loss_hook import BoundaryLossHook  # noqa: E402
from .checkpoint import register_checkpoint_loader  # noqa: E402
from .distillation_schedule_hook import DistillationScheduleHook  # noqa: E402
from .hybrid_encoder import HybridEncoder  # noqa: E402
from .pack_people_seg_inputs import PackPeopleSegInputs  # noqa: E402
from .people_seg_distiller import PeopleSegDistiller  # noqa: E402
from .people_segmentor import PeopleSegmentor  # noqa: E402
from .person_seg_targets import PersonSegTargets  # noqa: E402
from .progressive_unfreeze_hook import ProgressiveUnfreezeHook  # noqa: E402
from .rhis_detector import RHISDetector  # noqa: E402
from .rhis_distill_roi_head import RHISDistillRoIHead  # noqa: E402
from .rhis_roi_head import RHISRoIHead  # noqa: E402
from .rhis_two_stage import RHISMaskRoIHead, RHISTwoStageDetector  # noqa: E402
from .rtdetr import RTDETR  # noqa: E402
from .varifocal_loss import RTDETRVarifocalLoss  # noqa: E402

register_checkpoint_loader()

__all__ = ['BinarySegMetric', 'BoundaryLossHook', 'register_checkpoint_loader', 'DistillationScheduleHook',
           'HybridEncoder', 'PackPeopleSegInputs', 'PeopleSegDistiller', 'PeopleSegmentor', 'PersonSegTargets',
           'ProgressiveUnfreezeHook', 'RHISDetector', 'RHISDistillRoIHead', 'RHISRoIHead', 'RHISMaskRoIHead',
           'RHISTwoStageDetector', 'RTDETR', 'RTDETRVarifocalLoss']
