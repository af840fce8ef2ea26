"""``rhis eval``: how good a trained RHIS (PyTorch or ONNX) is on a COCO person folder, with GT boxes or a detector's.

The command a user runs on their own data, and the one protocol the Results tables use for pycocotools figures:
COCO mask AP / AP50 / AP75 / AP by size at each image's original size (crowd regions are COCO's ignore regions),
AP on the occluded subset (persons whose box holds >= 10 % of another person's pixels), the reference's target IoU
on GT boxes (ROI space, against "box filled"), the people-seg UNet's binary IoU (crowd pixels left out) and counts.

Boxes: GT boxes (the oracle-box protocol: all of equal score, masks ranked by their mean probability) or any detector ``rhis predict`` takes, ranked by its scores. With a detector, the occluded
subset is scored with the other persons as ignore regions, so a detection of a visible person is not counted against
it. Ultralytics' own mask metrics (``rhis-yolo val``) are measured in its letterboxed frame: another number.

Where the share of the box AP goes, on a detector's boxes: each detection is matched to at most one GT person (box
IoU >= 0.5, best score first) and, over the matched persons, the mean box IoU, the mask IoU of the masks as scored on
the detector's box and on the person's GT box, and the IoU that the person's GT mask cut to the detector's box keeps
(the most any mask inside that box reaches). Mask IoU far below that ceiling on both boxes: the masks are the limit,
not the boxes.

``detector_masks=True`` scores the detector's own masks (a YOLO-seg model's, Mask R-CNN's) on the same boxes with the
same scores and the same exclusivity rule, in place of RHIS's: the like-for-like comparison of two mask branches.
"""
from __future__ import annotations

import json
import warnings
from pathlib import Path
from typing import Any, Callable

import numpy as np
import torch
from torch.utils.data import Dataset
from torchvision.ops import box_iou

from ..data.coco_eval import CocoAccumulator
from ..data.occlusion import OCCLUDED, others_in_box
from ..models.rois import boxes_to_rois, clip_rois, rois_to_pixels
from ..postprocess import PostprocessConfig, clip_to_box, exclusive_masks
from ..training.roi_targets import build_roi_targets
from .detectors import Detections

__all__ = ['evaluate_rhis', 'format_evaluation', 'match_detections', 'write_evaluation']

MATCH_IOU = 0.5       # box IoU at which a detection counts as a GT person's, for the matched-person IoUs
# The matched persons' means, in the order :func:`_matched_ious` gives them per person.
MATCHED_FIGURES = ('matched_box_iou', 'matched_mask_iou', 'matched_mask_iou_gt_box', 'box_ceiling_iou')


def _uint8_rgb(image: torch.Tensor) -> np.ndarray:
    return np.ascontiguousarray((image.permute(1, 2, 0).numpy() * 255).round().astype(np.uint8))


def _target_ious(roi_masks: Any, gt: np.ndarray, boxes: np.ndarray, size: tuple[int, int]) -> tuple[list, list]:
    """Per GT box: IoU of the predicted target (probability > 0.5) with the ROI target, and of "box filled"."""
    rois = rois_to_pixels(clip_rois(boxes_to_rois([torch.as_tensor(boxes).float()], *size)), *size)
    targets = build_roi_targets([torch.from_numpy(gt)], rois, torch.arange(len(gt)), tuple(roi_masks.probs.shape[-2:]))
    target = targets == 1
    predicted = roi_masks.probs.float().cpu() > 0.5
    inter = (predicted & target).flatten(1).sum(1).float()
    union = (predicted | target).flatten(1).sum(1).float()
    ious = torch.where(union > 0, inter / union.clamp(min=1), torch.ones_like(union))
    return ious.tolist(), target.flatten(1).float().mean(1).tolist()


def match_detections(boxes: np.ndarray, scores: np.ndarray, gt_boxes: np.ndarray,
                     iou_threshold: float = MATCH_IOU) -> list[tuple[int, int, float]]:
    """Greedy one-to-one matching of detections to GT persons, best score first: ``(detection, person, box IoU)``
    for every detection whose best free person overlaps it by at least ``iou_threshold``.

    Example:
        >>> boxes, scores = np.array([[0, 0, 10, 10], [0, 0, 9, 10]]), np.array([0.5, 0.9])
        >>> match_detections(boxes, scores, gt_boxes=np.array([[0, 0, 10, 10]]))
        [(1, 0, 0.9)]
    """
    if not len(boxes) or not len(gt_boxes):
        return []
    ious = box_iou(torch.as_tensor(boxes).float(), torch.as_tensor(gt_boxes).float()).numpy()
    free, pairs = np.ones(len(gt_boxes), bool), []
    for detection in np.argsort(-np.asarray(scores), kind='stable'):
        candidates = np.where(free, ious[detection], -1.0)
        person = int(candidates.argmax())
        if candidates[person] >= iou_threshold:
            free[person] = False
            pairs.append((int(detection), person, round(float(ious[detection, person]), 6)))
    return pairs


def _mask_iou(a: np.ndarray, b: np.ndarray) -> float:
    union = np.logical_or(a, b).sum()
    return float(np.logical_and(a, b).sum() / union) if union else 1.0


def _matched_ious(dets: Detections, masks: np.ndarray, gt: np.ndarray, gt_boxes: np.ndarray,
                  gt_box_masks: np.ndarray | None) -> list[tuple[float, float, float, float]]:
    """Per matched person: box IoU, mask IoU on the detector's box, on the GT box (NaN without ``gt_box_masks``),
    and the IoU of the GT mask cut to the detector's box with the GT mask."""
    rows = []
    for detection, person, iou in match_detections(dets.boxes, dets.scores, gt_boxes):
        on_gt_box = float('nan') if gt_box_masks is None else _mask_iou(gt_box_masks[person], gt[person])
        cut = clip_to_box(torch.from_numpy(gt[person]), torch.from_numpy(dets.boxes[detection])).numpy()
        ceiling = _mask_iou(cut, gt[person])
        rows.append((iou, _mask_iou(masks[detection], gt[person]), on_gt_box, ceiling))
    return rows


def evaluate_rhis(backend: Any, dataset: Dataset, detector: Callable[[np.ndarray, str], Detections] | None = None,
                  postprocess: PostprocessConfig = PostprocessConfig(), unet_threshold: float = 0.5,
                  progress: Callable[[int, int], None] | None = None, detector_masks: bool = False) -> dict[str, Any]:
    """Mask quality of ``backend`` on ``dataset``.

    Args:
        backend: a :class:`~rhis_plugin.deploy.RHISBackend` (PyTorch or ONNX), or anything with its ``roi_masks``
            and ``person_mask``; ``None`` with ``detector_masks`` (then the IoUs are NaN).
        dataset: original-size samples (``CocoPersonDataset`` / ``coco_person_dataset`` without ``image_size``).
        detector: a detector adapter (``load_detector``), called as ``detector(image, file_name)`` like every
            detector (a detections file finds the image's boxes by its name); ``None``: GT boxes. A detector that
            finds nothing on the whole dataset gets a warning (its AP is then 0).
        postprocess: threshold, dilation, smoothing of the pasted masks (``exclusive`` applies to detector masks too).
        unet_threshold: person-probability threshold of the UNet's binary IoU.
        progress: called with (done, total) after every image.
        detector_masks: score the detector's own masks (``load_detector(..., masks=True)``) instead of RHIS's.

    Returns:
        ``segm_AP``, ``segm_AP50``, ``segm_AP75``, ``segm_AP_small`` / ``_medium`` / ``_large`` (NaN without persons
        of that size), ``segm_AP_occluded`` (NaN without occluded persons), ``bbox_AP`` and ``mask_box_ratio`` =
        mask AP / box AP (with a detector); on a detector's boxes with RHIS's masks also ``segm_AP_rescored``,
        ``segm_AP75_rescored``, ``segm_AP_occluded_rescored``: the same masks ranked by detector score x mask quality
        (:func:`~rhis_plugin.postprocess.mask_quality`, as ``rhis predict`` scores them),
        ``target_iou`` and ``box_filled_iou`` (GT boxes, ROI space), ``unet_iou``, and the counts ``images``,
        ``instances``, ``occluded_instances``, ``detections``; ``boxes`` says which. On a detector's boxes also the
        matched persons (:func:`match_detections`): ``matched_persons``, means of ``matched_box_iou``,
        ``matched_mask_iou`` (the masks as scored, on the detector's boxes), ``matched_mask_iou_gt_box`` (RHIS's
        masks as the GT-box protocol scores them, on those persons' GT boxes; NaN for a detector's own masks) and
        ``box_ceiling_iou`` (each GT mask cut to its detector box: the most a mask inside that box reaches).

    Example:
        >>> from rhis_plugin.data import coco_person_dataset
        >>> from rhis_plugin.deploy import RHISBackend
        >>> metrics = evaluate_rhis(RHISBackend('starter'), coco_person_dataset('people/val'))  # doctest: +SKIP
        >>> metrics['segm_AP']  # doctest: +SKIP
    """
    if detector_masks and detector is None:
        raise ValueError('detector_masks needs a detector (one loaded with masks=True)')
    if backend is None and not detector_masks:
        raise ValueError('no RHIS backend to evaluate')
    everyone, occluded = CocoAccumulator(), CocoAccumulator()
    # On a detector's boxes, the same masks once more with score = detector score x mask quality (the ranking
    # ``rhis predict`` writes to results.json): a box with no person in it then ranks low.
    rescored, rescored_occluded = CocoAccumulator(), CocoAccumulator()
    counts = {'images': 0, 'instances': 0, 'occluded_instances': 0, 'detections': 0}
    ious, filled, unet, matched = [], [], np.zeros(2), []
    for index in range(len(dataset)):
        sample = dataset[index]
        image = _uint8_rgb(sample['image'])
        size = image.shape[:2]
        gt = sample['masks'].numpy().astype(bool)
        crowd = sample['crowd'].numpy().astype(bool) if 'crowd' in sample else np.zeros(size, bool)
        hidden = others_in_box(list(gt)) >= OCCLUDED if len(gt) else np.zeros(0, bool)
        counts['images'] += 1
        counts['instances'] += len(gt)
        counts['occluded_instances'] += int(hidden.sum())
        guide = sample['image'] if postprocess.smoothing == 'guided' else None
        gt_boxes = sample['boxes'].numpy()
        if backend is not None:
            person = backend.person_mask(image, unet_threshold)
            union = gt.any(axis=0) if len(gt) else np.zeros(size, bool)
            unet += [(person & union & ~crowd).sum(), ((person | union) & ~crowd).sum()]
        if len(gt) and backend is not None:
            gt_rois = backend.roi_masks(image, gt_boxes, None)
            image_ious, image_filled = _target_ious(gt_rois, gt, gt_boxes, size)
            ious += image_ious
            filled += image_filled
        all_id = everyone.add_image(*size, gt, crowd)
        if detector is None:
            occ_id = occluded.add_image(*size, gt[hidden], crowd)
            if not len(gt):
                continue
            pasted = gt_rois.paste(postprocess, guide)
            scores, masks = pasted.scores.cpu().numpy(), pasted.masks.cpu().numpy()
            everyone.add_detections(all_id, gt_boxes, scores, masks)
            occluded.add_detections(occ_id, gt_boxes[hidden], scores[hidden], masks[hidden])
        else:
            visible = gt[~hidden].any(axis=0) if (~hidden).any() else np.zeros(size, bool)
            occ_id = occluded.add_image(*size, gt[hidden], crowd | visible)
            re_all_id, re_occ_id = rescored.add_image(*size, gt, crowd), rescored_occluded.add_image(
                *size, gt[hidden], crowd | visible)
            dets = detector(image, str(sample.get('file_name', '')))
            counts['detections'] += len(dets.scores)
            if not len(dets.scores):
                continue
            quality, gt_box_masks = None, None
            if detector_masks:
                masks = _own_masks(dets, size, postprocess.exclusive)
            else:
                pasted = backend.roi_masks(image, dets.boxes, dets.scores).paste(postprocess, guide)
                masks = pasted.masks.cpu().numpy()
                quality = None if pasted.quality is None else pasted.quality.cpu().numpy()
                if len(gt):
                    gt_box_masks = gt_rois.paste(postprocess, guide).masks.cpu().numpy()
            matched += _matched_ious(dets, masks, gt, gt_boxes, gt_box_masks)
            for accumulator, image_id in ((everyone, all_id), (occluded, occ_id)):
                accumulator.add_detections(image_id, dets.boxes, dets.scores, masks)
            if quality is not None:
                for accumulator, image_id in ((rescored, re_all_id), (rescored_occluded, re_occ_id)):
                    accumulator.add_detections(image_id, dets.boxes, dets.scores * quality, masks)
        if progress is not None:
            progress(index + 1, len(dataset))
    if not counts['instances']:
        raise ValueError('the dataset has no person instances to evaluate')
    if detector is not None and not counts['detections']:
        warnings.warn(f"the detector found no person on any of the {counts['images']} images: mask AP is 0. A "
                      'detections file must name these images (file_name, or image_id with the annotation file); '
                      'a model may need a lower conf or the person class', stacklevel=2)
    coco = everyone.evaluate()
    result: dict[str, Any] = {'boxes': 'gt' if detector is None else 'detector',
                              'masks': 'detector' if detector_masks else 'rhis'}
    result.update({k: v for k, v in coco.items() if k.startswith('segm') or (detector is not None and k == 'bbox_AP')})
    result['segm_AP_occluded'] = occluded.evaluate()['segm_AP'] if counts['occluded_instances'] else float('nan')
    if detector is not None:      # the share of the detector's box AP its masks keep, and where the rest goes
        result['mask_box_ratio'] = result['segm_AP'] / result['bbox_AP'] if result['bbox_AP'] > 0 else float('nan')
        means = np.array(matched).mean(axis=0).tolist() if matched else [float('nan')] * len(MATCHED_FIGURES)
        result.update(matched_persons=len(matched), **dict(zip(MATCHED_FIGURES, means)))
    if rescored.detections:
        result.update({f'{k}_rescored': v for k, v in rescored.evaluate().items() if k in ('segm_AP', 'segm_AP75')})
        result['segm_AP_occluded_rescored'] = (rescored_occluded.evaluate()['segm_AP'] if counts['occluded_instances']
                                               else float('nan'))
    result.update(target_iou=float(np.mean(ious)) if ious else float('nan'),
                  box_filled_iou=float(np.mean(filled)) if filled else float('nan'),
                  unet_iou=float(unet[0] / unet[1]) if unet[1] else float('nan'), **counts)
    return result


def _own_masks(dets: Detections, size: tuple[int, int], exclusive: bool) -> np.ndarray:
    if dets.masks is None:
        raise ValueError('the detector gave no masks of its own: load it with masks=True (rhis eval --detector-masks) '
                         'and use an instance segmentation model')
    if tuple(dets.masks.shape[1:]) != tuple(size):
        raise ValueError(f'detector masks are {tuple(dets.masks.shape[1:])}, the image is {tuple(size)}: they must '
                         'be at the original size (Ultralytics: retina_masks=True)')
    return exclusive_masks(dets.masks, dets.scores) if exclusive else dets.masks.astype(bool)


def format_evaluation(metrics: dict[str, Any]) -> str:
    """A few lines for the terminal: AP in percent, IoUs as fractions, counts; on a detector's boxes also its box AP
    and the share of it the masks keep (mask AP / box AP)."""
    ap = '  '.join(f"{key.removeprefix('segm_')} {100 * metrics[key]:.1f}" for key in
                   ('segm_AP', 'segm_AP50', 'segm_AP75', 'segm_AP_small', 'segm_AP_medium', 'segm_AP_large',
                    'segm_AP_occluded'))
    ratio = metrics.get('mask_box_ratio')
    if ratio is not None and ratio == ratio:
        ap += f"\nbox AP {100 * metrics['bbox_AP']:.1f}: the masks keep {ratio:.2f} of it (mask AP / box AP)"
    if metrics.get('segm_AP_rescored') is not None:
        ap += (f"\nscored by detector score x mask quality: AP {100 * metrics['segm_AP_rescored']:.1f}  "
               f"AP75 {100 * metrics['segm_AP75_rescored']:.1f}  AP_occluded "
               f"{100 * metrics['segm_AP_occluded_rescored']:.1f}")
    if metrics.get('matched_persons'):
        on_gt = metrics['matched_mask_iou_gt_box']
        ap += (f"\n{metrics['matched_persons']} persons matched (box IoU >= {MATCH_IOU}, mean "
               f"{metrics['matched_box_iou']:.3f}): mask IoU {metrics['matched_mask_iou']:.3f} on the detector's "
               f"boxes{'' if on_gt != on_gt else f', {on_gt:.3f} on their GT boxes'}; the GT mask cut to the "
               f"detector's box keeps {metrics['box_ceiling_iou']:.3f}")
    return (f"{metrics.get('masks', 'rhis')} masks ({metrics['boxes']} boxes, pycocotools at original size): {ap}\n"
            f"target IoU {metrics['target_iou']:.3f} (box filled {metrics['box_filled_iou']:.3f})  "
            f"UNet IoU {metrics['unet_iou']:.3f}\n"
            f"{metrics['images']} images, {metrics['instances']} persons ({metrics['occluded_instances']} occluded), "
            f"{metrics['detections']} detections")


def write_evaluation(metrics: dict[str, Any], path: str | Path) -> Path:
    """The metrics as JSON (NaN as null)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    clean = {k: (None if isinstance(v, float) and v != v else v) for k, v in metrics.items()}
    path.write_text(json.dumps(clean, indent=2) + '\n')
    return path
