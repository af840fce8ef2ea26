"""`rhis eval` / evaluate_rhis on generated scenes with oracle models: perfect masks score 100, box-filled masks the
lower figure "box filled" stands for; GT boxes or a detector's; the command line writes its JSON."""
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from rhis_plugin.data.coco_dataset import CocoPersonDataset
from rhis_plugin.data.synthetic import SceneConfig, generate_dataset
from rhis_plugin.deploy import format_evaluation, evaluate_rhis
from rhis_plugin.deploy.detectors import Detections
from rhis_plugin.models import build_rhis, save_rhis
from rhis_plugin.postprocess import PastedMasks
from rhis_plugin.training.roi_targets import build_roi_targets
from rhis_plugin.models.rois import boxes_to_rois, clip_rois, rois_to_pixels

RHIS = Path(sys.executable).with_name('rhis')


@pytest.fixture(scope='module')
def scenes(tmp_path_factory):
    root = tmp_path_factory.mktemp('eval')
    generate_dataset(root / 'val', 6, seed=3, cfg=SceneConfig(height=96, width=128, min_persons=2, max_persons=4))
    return root / 'val'


class OracleRoIMasks:
    def __init__(self, probs, masks, quality=None):
        self.probs, self.masks, self.quality = probs, masks, quality

    def paste(self, cfg, image=None):
        return PastedMasks(masks=self.masks, scores=torch.ones(len(self.masks)), quality=self.quality)


class OracleBackend:
    """Knows each image's GT: ``perfect`` gives the GT mask of the box's person, ``box`` fills the box."""

    def __init__(self, dataset, mode, mask_size=(64, 48)):
        self.gt = {(dataset[i]['image'] * 255).round().byte().permute(1, 2, 0).numpy().tobytes(): dataset[i]
                   for i in range(len(dataset))}
        self.mode, self.mask_size = mode, mask_size

    def roi_masks(self, image, boxes, scores):
        sample = self.gt[image.tobytes()]
        size = image.shape[:2]
        boxes = torch.as_tensor(np.asarray(boxes)).float()
        own = torch.tensor([int(np.argmin(np.abs(sample['boxes'].numpy() - b.numpy()).sum(1))) for b in boxes])
        rois = rois_to_pixels(clip_rois(boxes_to_rois([boxes], *size)), *size)
        targets = build_roi_targets([sample['masks']], rois, own, self.mask_size) == 1
        if self.mode == 'perfect':     # quality 1 on a person's own box, 0 on any other box
            quality = torch.tensor([float(np.abs(sample['boxes'][i].numpy() - b.numpy()).max() < 1)
                                    for i, b in zip(own, boxes)])
            return OracleRoIMasks(targets.float(), sample['masks'][own], quality)
        ones = torch.ones(size, dtype=torch.bool)
        filled = torch.stack([box_filled_mask(ones, b) for b in boxes])
        return OracleRoIMasks(torch.ones_like(targets, dtype=torch.float), filled)

    def person_mask(self, image, threshold):
        return self.gt[image.tobytes()]['masks'].any(0).numpy()


def box_filled_mask(mask: torch.Tensor, box: torch.Tensor) -> torch.Tensor:
    height, width = mask.shape
    ys, xs = torch.meshgrid(torch.arange(height) + 0.5, torch.arange(width) + 0.5, indexing='ij')
    return (xs >= box[0]) & (xs <= box[2]) & (ys >= box[1]) & (ys <= box[3])


def box_filled_iou(mask: torch.Tensor, box: torch.Tensor) -> float:
    filled = box_filled_mask(mask, box)
    return float((filled & mask).sum() / (filled | mask).sum())


def test_perfect_masks_score_100_and_box_filled_masks_the_box_filled_figure(scenes):
    dataset = CocoPersonDataset(scenes)
    perfect = evaluate_rhis(OracleBackend(dataset, 'perfect'), dataset)
    assert perfect['segm_AP'] == pytest.approx(1.0) and perfect['segm_AP75'] == pytest.approx(1.0)
    assert perfect['occluded_instances'] > 0 and perfect['segm_AP_occluded'] == pytest.approx(1.0)
    assert perfect['target_iou'] == pytest.approx(1.0) and perfect['unet_iou'] == pytest.approx(1.0)
    assert perfect['instances'] == sum(len(dataset[i]['masks']) for i in range(len(dataset)))
    boxes = evaluate_rhis(OracleBackend(dataset, 'box'), dataset)
    assert boxes['target_iou'] == pytest.approx(boxes['box_filled_iou'])      # what "box filled" means
    # The known figure: each filled box overlaps its (thin-limbed) person with IoU < 0.5 here, so no mask counts.
    ious = [box_filled_iou(mask, box) for i in range(len(dataset))
            for mask, box in zip(dataset[i]['masks'], dataset[i]['boxes'])]
    assert max(ious) < 0.5 and boxes['segm_AP50'] == 0.0 and boxes['segm_AP'] == 0.0


def test_detector_boxes_and_the_occluded_subset(scenes):
    """A detector that finds every person (and one false box): perfect masks lose only to the false box; the
    visible persons' detections do not count against the occluded subset."""
    dataset = CocoPersonDataset(scenes)
    by_image = {(dataset[i]['image'] * 255).round().byte().permute(1, 2, 0).numpy().tobytes(): dataset[i]
                for i in range(len(dataset))}

    def detector(image, name=''):
        boxes = by_image[image.tobytes()]['boxes'].numpy()
        return Detections(boxes.astype(np.float32), np.linspace(0.9, 0.5, len(boxes)).astype(np.float32),
                          np.zeros(len(boxes), np.int64))

    metrics = evaluate_rhis(OracleBackend(dataset, 'perfect'), dataset, detector)
    assert metrics['boxes'] == 'detector' and metrics['detections'] == metrics['instances']
    assert metrics['segm_AP'] == pytest.approx(1.0) and metrics['segm_AP_occluded'] == pytest.approx(1.0)
    assert metrics['bbox_AP'] == pytest.approx(1.0)
    assert metrics['matched_persons'] == metrics['instances']
    for key in ('matched_box_iou', 'matched_mask_iou', 'matched_mask_iou_gt_box', 'box_ceiling_iou'):
        assert metrics[key] == pytest.approx(1.0), key


def test_matched_persons_say_what_the_box_and_the_mask_each_cost(scenes):
    """Detector boxes cut short by a fifth of each side: box-filled masks then score, per matched person, the IoU
    of the cut box filled with the person (GT boxes: the full one), and the ceiling is the share of the person's
    mask inside the cut box, each computed here by hand."""
    dataset = CocoPersonDataset(scenes)
    by_image = {(dataset[i]['image'] * 255).round().byte().permute(1, 2, 0).numpy().tobytes(): dataset[i]
                for i in range(len(dataset))}

    def cut(boxes):
        margin = (boxes[:, 2:] - boxes[:, :2]) / 10
        return torch.cat([boxes[:, :2] + margin, boxes[:, 2:] - margin], dim=1)

    def detector(image, name=''):
        boxes = cut(by_image[image.tobytes()]['boxes']).numpy().astype(np.float32)
        return Detections(boxes, np.linspace(0.9, 0.5, len(boxes)).astype(np.float32), np.zeros(len(boxes), np.int64))

    metrics = evaluate_rhis(OracleBackend(dataset, 'box'), dataset, detector)
    persons = [(mask, box, cut_box) for i in range(len(dataset))
               for mask, box, cut_box in zip(dataset[i]['masks'], dataset[i]['boxes'], cut(dataset[i]['boxes']))]
    assert metrics['matched_persons'] == len(persons)
    assert metrics['matched_box_iou'] == pytest.approx(0.64, abs=0.01)       # (1 - 2/10)^2 of the box, inside it
    assert metrics['matched_mask_iou'] == pytest.approx(np.mean([box_filled_iou(m, c) for m, _, c in persons]))
    assert metrics['matched_mask_iou_gt_box'] == pytest.approx(np.mean([box_filled_iou(m, b) for m, b, _ in persons]))
    kept = [float((box_filled_mask(m, c) & m).sum() / m.sum()) for m, _, c in persons]
    assert metrics['box_ceiling_iou'] == pytest.approx(np.mean(kept)) and max(kept) < 1
    assert 'on their GT boxes' in format_evaluation(metrics)


def test_mask_quality_reranks_a_confident_box_with_no_person_in_it(scenes):
    """A false box (top score, over the background) costs the detector-scored masks AP; ranked by detector score x
    mask quality (0 there) it falls behind every person and the AP is whole again."""
    dataset = CocoPersonDataset(scenes)
    by_image = {(dataset[i]['image'] * 255).round().byte().permute(1, 2, 0).numpy().tobytes(): dataset[i]
                for i in range(len(dataset))}

    def detector(image, name=''):
        boxes = by_image[image.tobytes()]['boxes'].numpy().astype(np.float32)
        false_box = boxes[:1] + np.float32([3, 3, 3, 3])
        return Detections(np.concatenate([false_box, boxes]), np.linspace(0.95, 0.5, len(boxes) + 1).astype(np.float32),
                          np.zeros(len(boxes) + 1, np.int64))

    metrics = evaluate_rhis(OracleBackend(dataset, 'perfect'), dataset, detector)
    assert metrics['segm_AP'] < 0.95 and metrics['segm_AP_rescored'] == pytest.approx(1.0)
    assert metrics['segm_AP_occluded_rescored'] == pytest.approx(1.0)
    assert 'detector score x mask quality' in format_evaluation(metrics)


def test_detector_masks_on_the_same_boxes(scenes):
    """A detector's own masks are scored in RHIS's place, on its boxes: its GT-perfect masks score 100, and a
    broken mask branch (masks shifted off the person) scores what such masks deserve; no RHIS backend needed."""
    dataset = CocoPersonDataset(scenes)
    by_image = {(dataset[i]['image'] * 255).round().byte().permute(1, 2, 0).numpy().tobytes(): dataset[i]
                for i in range(len(dataset))}

    def detector(shift):
        def detect(image, name=''):
            sample = by_image[image.tobytes()]
            masks = np.roll(sample['masks'].numpy(), shift, axis=2)
            return Detections(sample['boxes'].numpy().astype(np.float32),
                              np.linspace(0.9, 0.5, len(masks)).astype(np.float32), np.zeros(len(masks), np.int64),
                              masks=masks)
        return detect

    perfect = evaluate_rhis(None, dataset, detector(0), detector_masks=True)
    assert perfect['masks'] == 'detector' and perfect['segm_AP'] == pytest.approx(1.0)
    assert perfect['segm_AP_occluded'] == pytest.approx(1.0) and np.isnan(perfect['unet_iou'])
    assert perfect['matched_mask_iou'] == pytest.approx(1.0) and np.isnan(perfect['matched_mask_iou_gt_box'])
    assert 'GT boxes' not in format_evaluation(perfect).split('persons matched')[1]
    shifted = evaluate_rhis(None, dataset, detector(40), detector_masks=True)
    assert shifted['segm_AP'] < 0.2 and shifted['bbox_AP'] == pytest.approx(1.0)
    assert shifted['mask_box_ratio'] == pytest.approx(shifted['segm_AP'])
    assert 'the masks keep' in format_evaluation(shifted)
    with pytest.raises(ValueError, match='masks=True'):
        evaluate_rhis(None, dataset, lambda image, name='': Detections(np.zeros((1, 4), np.float32), np.ones(1, np.float32),
                                                              np.zeros(1, np.int64)), detector_masks=True)
    with pytest.raises(ValueError, match='needs a detector'):
        evaluate_rhis(None, dataset, None, detector_masks=True)


def test_the_command_writes_its_metrics(scenes, tmp_path):
    weights = save_rhis(build_rhis('rhis_b0_64x48'), tmp_path / 'rhis.pth')
    result = subprocess.run([str(RHIS), 'eval', '--data', str(scenes), '--rhis', str(weights), '--allow-random',
                             '--out', str(tmp_path / 'eval.json')], capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    metrics = json.loads((tmp_path / 'eval.json').read_text())
    assert {'segm_AP', 'segm_AP_small', 'segm_AP_occluded', 'target_iou', 'box_filled_iou', 'unet_iou',
            'instances'} <= set(metrics)
    assert 'rhis masks (gt boxes, pycocotools at original size)' in result.stdout
    refused = subprocess.run([str(RHIS), 'eval', '--data', str(scenes), '--rhis', str(weights)], capture_output=True,
                             text=True, timeout=600)
    assert refused.returncode == 2 and '--allow-random' in refused.stderr


def test_a_detections_file_is_matched_by_file_name(scenes, tmp_path):
    """`rhis eval --detector dets.json --detector-checkpoint ann.json`: the detections file finds each image's boxes
    (by image_id through the annotation file, or by file_name): GT boxes as detections score like GT boxes."""
    from rhis_plugin.deploy.detectors import load_detector
    dataset = CocoPersonDataset(scenes)
    ann = json.loads((scenes / 'annotations.json').read_text())
    by_id = [{'image_id': a['image_id'], 'bbox': a['bbox'], 'score': 0.9, 'category_id': 1}
             for a in ann['annotations'] if not a.get('iscrowd')]
    (tmp_path / 'by_id.json').write_text(json.dumps(by_id))
    names = {img['id']: img['file_name'] for img in ann['images']}
    (tmp_path / 'by_name.json').write_text(json.dumps([{**d, 'file_name': names[d['image_id']]} for d in by_id]))
    for detector in (load_detector(str(tmp_path / 'by_id.json'), str(scenes / 'annotations.json')),
                     load_detector(str(tmp_path / 'by_name.json'))):
        metrics = evaluate_rhis(OracleBackend(dataset, 'perfect'), dataset, detector)
        assert metrics['detections'] == metrics['instances'] and metrics['segm_AP'] > 0.9


def test_a_detector_that_finds_nothing_warns(scenes):
    dataset = CocoPersonDataset(scenes)
    with pytest.warns(UserWarning, match='found no person on any'):
        metrics = evaluate_rhis(OracleBackend(dataset, 'perfect'), dataset, lambda image, name='': Detections.empty())
    assert metrics['detections'] == 0 and metrics['segm_AP'] == 0.0
