"""MarkAnnotated: records whether a sample came with annotations, so that oracle-box inference can tell an
annotated image without persons (no masks) from a raw image (an error): mmdet's ``LoadAnnotations`` gives both
the same empty ground truth."""
from __future__ import annotations

from mmcv.transforms import BaseTransform
from mmdet.registry import TRANSFORMS

__all__ = ['MarkAnnotated']


@TRANSFORMS.register_module()
class MarkAnnotated(BaseTransform):
    """Sets ``results['annotated']``: ``True`` when the dataset gave the sample an ``instances`` list (possibly
    empty), ``False`` for raw images (``inference_detector``, ``DetInferencer``). Add ``'annotated'`` to
    ``PackDetInputs``' ``meta_keys`` to carry it to the model."""

    def transform(self, results: dict) -> dict:
        results['annotated'] = 'instances' in results
        return results
