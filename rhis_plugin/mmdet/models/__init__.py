"""mmdet models of rhis_plugin, split by role as mmdet splits its own."""
from .detectors import RHISDetector, RHISRTDETR, RHISTwoStageDetector
from .losses import RHISVarifocalLoss
from .necks import RHISHybridEncoder
from .roi_heads import RHISDistillRoIHead, RHISMaskRoIHead, RHISRoIHead
from .segmentors import PeopleSegDistiller, PeopleSegmentor

__all__ = ['RHISDetector', 'RHISRTDETR', 'RHISTwoStageDetector', 'RHISVarifocalLoss', 'RHISHybridEncoder',
           'RHISDistillRoIHead', 'RHISMaskRoIHead', 'RHISRoIHead', 'PeopleSegDistiller', 'PeopleSegmentor']
