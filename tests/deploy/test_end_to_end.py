"""One ONNX file for detector + RHIS: the same boxes and masks as the detector graph and the RHIS graph run apart
with the same preprocessing, for an Ultralytics nms=True export and the DETR contract."""
import subprocess
import sys
from pathlib import Path

import numpy as np
import onnx
import pytest
import torch
import torch.nn as nn

from rhis_plugin.deploy import OnnxRHIS, export_onnx
from rhis_plugin.deploy.end_to_end import (DetectorInput, OnnxEndToEnd, detector_format, export_end_to_end)
from rhis_plugin.deploy.onnx_session import onnx_session
from rhis_plugin.models import build_rhis, save_rhis

ROOT = Path(__file__).resolve().parents[2]


class TinyNmsYolo(nn.Module):
    """An Ultralytics ``nms=True`` export: [1, K, 6] (x1, y1, x2, y2, score, class) in letterboxed input pixels;
    the boxes follow the input's content so that a wrong letterbox shows."""

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        shift = images[:, 0, 40:60, 40:60].mean() * 10
        rows = torch.tensor([[20.0, 30.0, 70.0, 110.0, 0.9, 0.0],     # person
                             [60.0, 25.0, 120.0, 118.0, 0.7, 0.0],    # person
                             [5.0, 5.0, 50.0, 40.0, 0.8, 2.0],        # car: dropped
                             [30.0, 40.0, 60.0, 90.0, 0.1, 0.0],      # below conf: dropped
                             [0.0, 0.0, 0.0, 0.0, 0.0, 0.0]])         # padding row
        return (rows + torch.cat([torch.full((4,), 1.0) * shift, torch.zeros(2)]))[None]


class TinyDetr(nn.Module):
    """The RT-DETR / D-FINE / DEIM contract: boxes in the pixels of orig_target_sizes."""

    def forward(self, images: torch.Tensor, orig_target_sizes: torch.Tensor):
        xyxy = torch.tensor([[0.1, 0.1, 0.5, 0.9], [0.4, 0.2, 0.9, 0.95], [0.0, 0.0, 0.3, 0.3]])[None]
        boxes = xyxy * orig_target_sizes.repeat(1, 2)[:, None, :].float() + images.mean() * 0
        scores = torch.tensor([[0.8, 0.6, 0.9]])
        return torch.tensor([[0, 0, 5]]), boxes, scores


def export_detector(module, inputs, path, input_names, output_names):
    torch.onnx.export(module, inputs, str(path), input_names=input_names, output_names=output_names,
                      opset_version=17, dynamo=False)
    return path


@pytest.fixture(scope='module')
def rhis():
    torch.manual_seed(0)
    return build_rhis('rhis_b0_64x48', aux_heads=False, working_size=64).eval()


@pytest.fixture(scope='module')
def rhis_graph(rhis, tmp_path_factory):
    return OnnxRHIS(export_onnx(rhis, tmp_path_factory.mktemp('rhis') / 'rhis.onnx'),
                    providers=['CPUExecutionProvider'])


def two_graphs(detector_path, kind, size, rhis_graph, image, conf, classes):
    """The reference: our preprocessing, the detector graph, boxes back to the frame, then the RHIS graph."""
    frame = torch.from_numpy(image).permute(2, 0, 1).float()[None] / 255
    height, width = image.shape[:2]
    session = onnx_session(detector_path, ['CPUExecutionProvider'])
    with torch.no_grad():
        det_inputs = DetectorInput(kind, size)(frame)
    if kind == 'detr':
        labels, boxes, scores = (o[0] for o in session.run(None, {'images': det_inputs[0].numpy(),
                                                                  'orig_target_sizes': det_inputs[2].numpy()}))
    else:
        out = session.run(None, {'images': det_inputs[0].numpy()})[0][0]
        gain = min(size[0] / height, size[1] / width)
        left = round((size[1] - round(width * gain)) / 2 - 0.1)
        top = round((size[0] - round(height * gain)) / 2 - 0.1)
        boxes = (out[:, :4] - [left, top, left, top]) / gain
        scores, labels = out[:, 4], out[:, 5].round().astype(np.int64)
    boxes = np.minimum(np.maximum(boxes, 0), [width, height, width, height]).astype(np.float32)
    keep = (scores >= conf) & np.isin(labels, classes)
    roi = rhis_graph.predict_rois([image], [boxes[keep]], [scores[keep]])[0]
    return boxes[keep], scores[keep], labels[keep], roi


@pytest.mark.parametrize('kind', ['ultralytics', 'detr'])
def test_merged_file_matches_the_two_graphs(kind, rhis, rhis_graph, tmp_path):
    if kind == 'ultralytics':
        detector = export_detector(TinyNmsYolo(), (torch.rand(1, 3, 128, 128),), tmp_path / 'det.onnx', ['images'],
                                   ['output0'])
    else:
        detector = export_detector(TinyDetr(), (torch.rand(1, 3, 96, 96), torch.tensor([[96, 96]])),
                                   tmp_path / 'det.onnx', ['images', 'orig_target_sizes'], ['labels', 'boxes', 'scores'])
    size = (128, 128) if kind == 'ultralytics' else (96, 96)
    assert detector_format(onnx.load(str(detector))) == kind
    merged = OnnxEndToEnd(export_end_to_end(rhis, detector, tmp_path / 'merged.onnx', conf=0.25, classes=[0]),
                          providers=['CPUExecutionProvider'])
    assert merged.detector_format == kind and merged.frame_size is None
    rng = np.random.default_rng(0)
    for height, width in ((90, 160), (150, 120)):
        image = (rng.random((height, width, 3)) * 255).astype(np.uint8)
        result = merged(image)
        boxes, scores, labels, roi = two_graphs(detector, kind, size, rhis_graph, image, 0.25, [0])
        assert len(result.boxes) == 2 and (result.labels == 0).all()
        assert np.allclose(result.boxes, boxes, atol=1e-3) and np.allclose(result.scores, scores)
        assert (result.roi_masks.probs - roi.probs).abs().max() < 1e-4
        pasted = result.roi_masks.paste()
        assert pasted.masks.shape == (2, height, width)
        assert (pasted.masks != roi.paste().masks).float().mean() < 1e-4


@pytest.mark.slow
def test_a_real_ultralytics_export_merges_with_the_tool_and_runs(rhis, tmp_path, monkeypatch):
    """YOLO11n (random init) exported by Ultralytics with nms=True, merged by tools/export_onnx.py --detector, run at
    two frame sizes."""
    from ultralytics import YOLO
    monkeypatch.chdir(tmp_path)
    detector = YOLO('yolo11n.yaml').export(format='onnx', nms=True, imgsz=96, conf=0.0, simplify=False,
                                           verbose=False)
    checkpoint = save_rhis(rhis, tmp_path / 'rhis.pth')
    result = subprocess.run([sys.executable, str(ROOT / 'tools/export_onnx.py'), '--checkpoint', str(checkpoint),
                             '--detector', str(detector), '--conf', '0', '--classes', *map(str, range(80)),
                             '--allow-random', '--out', str(tmp_path / 'merged.onnx')], capture_output=True, text=True,
                            timeout=600)
    assert result.returncode == 0, result.stderr[-2000:]
    merged = OnnxEndToEnd(tmp_path / 'merged.onnx', providers=['CPUExecutionProvider'])
    for height, width in ((64, 128), (120, 90)):
        result = merged((np.random.default_rng(1).random((height, width, 3)) * 255).astype(np.uint8))
        assert len(result.boxes) > 0 and result.roi_masks.probs.shape == (len(result.boxes), 128, 96)
        assert (result.boxes[:, 2] <= width + 1e-3).all() and (result.boxes[:, 3] <= height + 1e-3).all()


def test_unusable_detector_graphs_are_refused(rhis, tmp_path):
    class Raw(nn.Module):
        def forward(self, images):
            return images.mean() + torch.zeros(1, 84, 10)
    raw = export_detector(Raw(), (torch.rand(1, 3, 64, 64),), tmp_path / 'raw.onnx', ['images'], ['output0'])
    with pytest.raises(ValueError, match='nms=True'):
        export_end_to_end(rhis, raw, tmp_path / 'x.onnx')
    with pytest.raises(FileNotFoundError):
        export_end_to_end(rhis, tmp_path / 'missing.onnx', tmp_path / 'x.onnx')
