"""Detector adapters: tiny self-built DETR-format ONNX, Ultralytics ONNX exports through AutoBackend, JSON, Ultralytics,
mmdet."""
import json
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn as nn
from PIL import Image

from rhis_plugin.deploy.detectors import (JsonDetections, MMDetDetector, OnnxDetrDetector,
                                          UltralyticsDetector, load_detector)

ROOT = Path(__file__).resolve().parents[2]


class TinyDetr(nn.Module):
    """The RT-DETR/D-FINE/DEIM export format: two fixed boxes, normalised cxcywh scaled by orig_target_sizes."""

    def forward(self, images: torch.Tensor, orig_target_sizes: torch.Tensor):
        batch = images.shape[0]
        cxcywh = torch.tensor([[0.3, 0.5, 0.3, 0.8], [0.7, 0.5, 0.2, 0.6]]).expand(batch, -1, -1)
        xyxy = torch.cat([cxcywh[..., :2] - cxcywh[..., 2:] / 2, cxcywh[..., :2] + cxcywh[..., 2:] / 2], dim=-1)
        boxes = xyxy * orig_target_sizes.repeat(1, 2)[:, None, :].float()
        scores = torch.sigmoid(images.mean((1, 2, 3))[:, None] * 0 + torch.tensor([2.0, -2.0]))
        return torch.zeros(batch, 2, dtype=torch.int64), boxes, scores


def export(module: nn.Module, inputs: tuple, path: Path, input_names: list[str], output_names: list[str]) -> Path:
    torch.onnx.export(module, inputs, str(path), input_names=input_names, output_names=output_names,
                      opset_version=17, dynamo=False)
    return path


@pytest.fixture(scope='module')
def tiny_detr(tmp_path_factory) -> Path:
    return export(TinyDetr(), (torch.rand(1, 3, 64, 64), torch.tensor([[64, 64]])),
                  tmp_path_factory.mktemp('det') / 'tiny_detr.onnx', ['images', 'orig_target_sizes'],
                  ['labels', 'boxes', 'scores'])


def test_detr_format(tiny_detr):
    detector = load_detector(str(tiny_detr), conf=0.5)
    assert isinstance(detector.detector, OnnxDetrDetector)      # load_detector wraps it in CheckedDetector
    dets = detector(np.zeros((100, 200, 3), np.uint8))
    assert np.allclose(dets.boxes, [[30.0, 10.0, 90.0, 90.0]], atol=1e-3)    # only the confident box, in pixels
    assert np.allclose(dets.scores, [1 / (1 + np.exp(-2))], atol=1e-5) and dets.labels.tolist() == [0]


@pytest.mark.parametrize('nms', [False, True])
def test_ultralytics_onnx_exports_run_as_yolo_predict_runs_them(tmp_path, monkeypatch, nms):
    """Raw and nms=True exports go through Ultralytics' AutoBackend: the boxes of the PyTorch model they came from."""
    from ultralytics import YOLO
    from ultralytics.utils import ASSETS
    monkeypatch.chdir(tmp_path)
    model = YOLO('yolo11n.yaml')
    path = model.export(format='onnx', imgsz=128, nms=nms, conf=0.0, simplify=False, verbose=False)
    image = np.asarray(Image.open(ASSETS / 'bus.jpg').convert('RGB'))
    onnx = load_detector(path, conf=0.0, classes=[0])
    onnx = onnx.detector
    assert isinstance(onnx, UltralyticsDetector)
    onnx.imgsz = 128
    torch_dets = UltralyticsDetector(model, conf=0.0, classes=[0], imgsz=128)(image)
    onnx_dets = onnx(image)
    top = min(5, len(torch_dets.scores))
    assert top and np.allclose(onnx_dets.boxes[:top], torch_dets.boxes[:top], atol=1.0)
    assert np.allclose(onnx_dets.scores[:top], torch_dets.scores[:top], atol=1e-3)


def test_json_detections(tmp_path):
    path = tmp_path / 'dets.json'
    path.write_text(json.dumps([{'file_name': 'a.jpg', 'bbox': [1, 2, 10, 20], 'score': 0.9, 'category_id': 1},
                                {'file_name': 'a.jpg', 'bbox': [1, 2, 10, 20], 'score': 0.9, 'category_id': 3},
                                {'image_id': 7, 'bbox': [5, 5, 5, 5], 'score': 0.4, 'category_id': 1}]))
    ann = tmp_path / 'ann.json'
    ann.write_text(json.dumps({'images': [{'id': 7, 'file_name': 'sub/b.jpg'}]}))
    detector, image = load_detector(str(path), str(ann)), np.zeros((40, 40, 3), np.uint8)
    assert isinstance(detector.detector, JsonDetections)
    assert detector(image, 'a.jpg').boxes.tolist() == [[1.0, 2.0, 11.0, 22.0]]
    assert len(detector(image, 'b.jpg').boxes) == 1 and len(detector(image, 'c.jpg').boxes) == 0
    # COCO ids and image ids pass through; persons (category 1) only by default.
    b = detector(image, 'b.jpg')
    assert b.coco_category_ids().tolist() == [1] and b.image_id == 7
    assert load_detector(str(path), str(ann), classes=[1, 3])(image, 'a.jpg').coco_category_ids().tolist() == [1, 3]
    path.write_text('{"not": "a list"}')
    with pytest.raises(ValueError, match='COCO results list'):
        JsonDetections(path)


def test_invalid_boxes_are_dropped_counted_and_warned_once(tmp_path):
    """NaN / inf, reversed and off-image boxes never reach RHIS (a NaN box used to crash roi_align)."""
    path = tmp_path / 'dets.json'
    boxes = [[1, 1, 5, 5], [float('nan'), 1, 5, 5], [8, 8, -3, 5], [50, 50, 5, 5], [2, 2, float('inf'), 3]]
    path.write_text(json.dumps([{'file_name': 'a.jpg', 'bbox': b, 'score': 0.9, 'category_id': 1} for b in boxes]))
    detector = load_detector(str(path))
    with pytest.warns(UserWarning, match='dropped 4 invalid detector box'):
        dets = detector(np.zeros((20, 20, 3), np.uint8), 'a.jpg')
    assert dets.boxes.tolist() == [[1.0, 1.0, 6.0, 6.0]] and detector.dropped == 4
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter('error')       # one warning per run, the count goes on
        detector(np.zeros((20, 20, 3), np.uint8), 'a.jpg')
    assert detector.dropped == 8


def test_max_det_keeps_the_best_persons(tmp_path):
    path = tmp_path / 'dets.json'
    path.write_text(json.dumps([{'file_name': 'a.jpg', 'bbox': [i, i, 5, 5], 'score': s, 'category_id': 1}
                                for i, s in enumerate((0.3, 0.9, 0.5, 0.7))]))
    detector = load_detector(str(path), conf=0.4, max_det=2)
    dets = detector(np.zeros((20, 20, 3), np.uint8), 'a.jpg')
    assert dets.scores.tolist() == pytest.approx([0.9, 0.7]) and dets.boxes[:, 0].tolist() == [1.0, 3.0]
    assert isinstance(detector.detector, JsonDetections) and len(
        load_detector(str(path))(np.zeros((20, 20, 3), np.uint8), 'a.jpg').boxes) == 4
    with pytest.raises(ValueError, match='max_det'):
        load_detector(str(path), max_det=0)


def test_ultralytics_and_mmdet_adapters():
    image = (np.random.default_rng(0).random((96, 128, 3)) * 255).astype(np.uint8)
    yolo = load_detector('yolo11n.yaml', conf=0.0, classes=[0])
    assert isinstance(yolo.detector, UltralyticsDetector)
    dets = yolo(image)
    assert dets.boxes.shape[1] == 4 and (dets.labels == 0).all()
    mmdet = load_detector(str(ROOT / 'configs/mmdet/rtdetr/rtdetr_r18_1xb4-36e_coco-person.py'), None, conf=0.0)
    assert isinstance(mmdet.detector, MMDetDetector)
    dets = mmdet(image)
    assert dets.boxes.shape == (len(dets.scores), 4) and len(dets.scores) > 0


def test_unknown_detector_file():
    with pytest.raises(ValueError, match='cannot tell what detector'):
        load_detector('weights.bin')


def test_category_ids_follow_the_label_space():
    from rhis_plugin.deploy.detectors import COCO80_TO_91, category_ids, label_space_of
    assert category_ids(np.array([0, 2, 79]), 'coco80').tolist() == [1, 3, 90]       # not label + 1
    assert category_ids(np.array([1, 3]), 'coco91').tolist() == [1, 3]
    assert category_ids(np.array([0, 0]), 'single').tolist() == [1, 1]
    assert category_ids(np.array([4]), 'plus_one').tolist() == [5]
    assert len(COCO80_TO_91) == 80 and len(set(COCO80_TO_91.tolist())) == 80
    assert label_space_of(['person']) == 'single' and label_space_of(['person'] + ['x'] * 79) == 'coco80'
    with pytest.raises(ValueError, match='0-based COCO'):
        category_ids(np.array([80]), 'coco80')
    with pytest.raises(ValueError, match='label_space'):
        category_ids(np.array([0]), 'voc')


def test_raw_yolox_onnx_is_recognised_decoded_and_unletterboxed(tiny_yolox_onnx):
    """tests/conftest.py's tiny raw YOLOX graph: a person at anchor (3, 2) of stride 8, a car, an NMS'd duplicate."""
    path = tiny_yolox_onnx
    detector = load_detector(str(path), conf=0.25)
    assert type(detector.detector).__name__ == 'OnnxYoloxDetector' and detector.size == 64 and detector.num_classes == 80
    dets = detector(np.zeros((32, 128, 3), np.uint8), 'wide.jpg')     # scale 0.5: letterboxed into the top-left
    assert dets.labels.tolist() == [0] and dets.category_ids.tolist() == [1]       # the car is not a person
    assert dets.scores[0] == pytest.approx(0.72, abs=1e-5)
    # Centre (3.5, 2.5) * 8 = (28, 20), size (16, 32) at the input -> doubled in the image, clipped to its 32 rows.
    np.testing.assert_allclose(dets.boxes[0], [40, 8, 72, 32], atol=1e-4)
    everything = load_detector(str(path), conf=0.25, classes=list(range(80)))(np.zeros((64, 64, 3), np.uint8), '')
    assert sorted(everything.labels.tolist()) == [0, 2]
