"""mmdet integration. Importing this package registers rhis_plugin's components into mmdet's registries:
``RHISDetector``, ``RHISRoIHead``, ``RHISTwoStageDetector`` + ``RHISMaskRoIHead`` (RHIS as the mask branch of a
Faster R-CNN style detector), ``RTDETR``, ``HybridEncoder`` and ``RTDETRVarifocalLoss``.

Configs import it with ``custom_imports = dict(imports=['rhis_plugin.mmdet'], allow_failed_imports=False)``.
"""
from .._optional import require

require('mmdet', extra='mmdet', feature='rhis_plugin.mmdet')
require('mmcv.ops', extra='mmdet', feature='rhis_plugin.mmdet (compiled mmcv ops)')

from .checkpoint import register_checkpoint_loader  # noqa: E402
from .hybrid_encoder import HybridEncoder  # noqa: E402
from .rhis_detector import RHISDetector  # noqa: E402
from .rhis_roi_head import RHISRoIHead  # noqa: E402
from .rhis_two_stage import RHISMaskRoIHead, RHISTwoStageDetector  # noqa: E402
from .rtdetr import RTDETR  # noqa: E402
from .varifocal_loss import RTDETRVarifocalLoss  # noqa: E402

register_checkpoint_loader()

__all__ = ['register_checkpoint_loader', 'HybridEncoder', 'RHISDetector', 'RHISRoIHead', 'RHISMaskRoIHead',
           'RHISTwoStageDetector', 'RTDETR', 'RTDETRVarifocalLoss']
