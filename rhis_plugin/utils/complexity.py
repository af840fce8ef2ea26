"""Parameter and MAC counts of RHIS models (torch's FlopCounterMode; 1 MAC = 2 FLOPs)."""
from __future__ import annotations

from dataclasses import dataclass

import torch
from torch.utils.flop_counter import FlopCounterMode

from ..models.rhis import RHIS

__all__ = ['Complexity', 'count_macs', 'measure_complexity']


@dataclass
class Complexity:
    params_total: int
    params_head: int             # everything but the people-seg UNet: what the instance head trains
    macs_per_roi: float
    macs_per_image: float        # the people-seg UNet on one image


def count_macs(fn) -> float:
    """Multiply-accumulates of one call of ``fn`` (no grad)."""
    counter = FlopCounterMode(display=False)
    with counter, torch.no_grad():
        fn()
    return counter.get_total_flops() / 2


def measure_complexity(model: RHIS, image_size: tuple[int, int] = (480, 640)) -> Complexity:
    """Counts at inference (eval mode, no auxiliary heads) for one ROI covering half of the image."""
    model = model.eval()
    height, width = image_size
    images = torch.rand(1, 3, height, width)
    with torch.no_grad():
        logits, features, scales = model.segment_people(images)
    frame_boxes, working_boxes = model.roi_boxes(torch.tensor([[0.0, 0.25, 0.25, 0.75, 0.75]]), images, scales)
    macs_roi = count_macs(lambda: model.forward_rois(images, logits, features, frame_boxes, working_boxes))
    macs_image = count_macs(lambda: model.segment_people(images))     # the UNet at the working size
    total = sum(p.numel() for p in model.parameters())
    unet = sum(p.numel() for p in model.peopleseg.parameters())
    return Complexity(params_total=total, params_head=total - unet, macs_per_roi=macs_roi,
                      macs_per_image=macs_image)
