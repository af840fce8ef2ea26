"""Golden masks of the four paste-back paths (PyTorch API, mmdet RoI head, Ultralytics callback, ONNX runtime).

The masks were recorded before the four paths were unified on one paste-back function, so "behaviour unchanged"
is checked, not assumed. Each path keeps its own geometry: mmdet pastes crop boxes mapped to the original image,
the Ultralytics segmenter pads a batch of two sizes top-left, the ONNX backend resizes to the graph's size.

Regenerate (only when a change of masks is intended) with ``RHIS_WRITE_GOLDEN=1 pytest tests/postprocess``.
"""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
import torch

from rhis_plugin.data.synthetic import SceneConfig, make_scene
from rhis_plugin.models import build_rhis
from rhis_plugin.postprocess import PostprocessConfig

GOLDEN = Path(__file__).with_name('golden_masks.npz')
WRITE = os.environ.get('RHIS_WRITE_GOLDEN') == '1'
OPTIONS = {'plain': PostprocessConfig(), 'dilated_guided': PostprocessConfig(dilation=1, smoothing='guided',
                                                                             smooth_radius=2)}
MAX_MISMATCH = 1e-3     # fraction of mask pixels: headroom for last-bit differences in the forward pass


class BrightnessHead(torch.nn.Module):
    """Stands in for the trained head: "this person" where the RoI-aligned crop is brighter than average.

    Deterministic and spatially structured (a random head is nearly constant), so the golden masks pin the
    geometry of RoI Align and paste-back rather than the noise of an untrained network.
    """

    def forward(self, features, stem_input, guide, with_aux=False):
        target = 8.0 * stem_input[:, :3].mean(dim=1, keepdim=True)
        target = torch.nn.functional.interpolate(target, size=guide.shape[-2:], mode='bilinear',
                                                 align_corners=False)
        zeros = torch.zeros_like(target)
        return {'masks': torch.cat([zeros, target, zeros - 2.0], dim=1)}


def golden_model():
    """RHIS with its random people-seg UNet and encoder, and a :class:`BrightnessHead`."""
    torch.manual_seed(0)
    model = build_rhis('rhis_b0_64x48', aux_heads=False).eval()
    model.head = BrightnessHead()
    return model


def scenes() -> list[tuple[np.ndarray, np.ndarray]]:
    """Two RGB images of different sizes and their person boxes (x1, y1, x2, y2 pixels)."""
    out = []
    for seed, (height, width) in enumerate(((96, 128), (80, 72))):
        scene = make_scene(np.random.default_rng(seed), SceneConfig(height=height, width=width, min_persons=3,
                                                                     max_persons=4))
        boxes = []
        for mask in scene.masks:
            ys, xs = np.nonzero(mask)
            boxes.append([xs.min(), ys.min(), xs.max() + 1, ys.max() + 1])
        out.append((scene.image, np.asarray(boxes, np.float32)))
    return out


def check(name: str, masks: list[np.ndarray]) -> None:
    packed = {f'{name}/{i}': np.asarray(m, bool) for i, m in enumerate(masks)}
    store = dict(np.load(GOLDEN)) if GOLDEN.is_file() else {}
    assert sum(m.sum() for m in packed.values()) > 0, 'the golden masks are empty: the test would prove nothing'
    if WRITE:
        store.update(packed)
        np.savez_compressed(GOLDEN, **store)
        return
    for key, mask in packed.items():
        assert key in store, f'no golden masks for {key}; run with RHIS_WRITE_GOLDEN=1 once'
        assert store[key].shape == mask.shape, key
        mismatch = (store[key] != mask).sum() / max(1, store[key].sum())
        assert mismatch <= MAX_MISMATCH, f'{key}: {mismatch:.4f} of the mask pixels changed'


@pytest.mark.parametrize('option', OPTIONS)
def test_pytorch_predict(option):
    model = golden_model()
    masks = []
    for image, boxes in scenes():
        tensor = torch.from_numpy(image.copy()).permute(2, 0, 1).float()[None] / 255
        masks.append(model.predict(tensor, [torch.from_numpy(boxes)], OPTIONS[option])[0].masks.numpy())
    check(f'pytorch/{option}', masks)


@pytest.mark.parametrize('option', OPTIONS)
def test_ultralytics_segmenter(option):
    pytest.importorskip('ultralytics')
    from ultralytics.engine.results import Results

    from rhis_plugin.ultralytics import RHISSegmenter, SegmenterOptions

    cfg = OPTIONS[option]
    segmenter = RHISSegmenter(golden_model(), SegmenterOptions(postprocess=cfg))
    results = []
    for image, boxes in scenes():
        data = torch.cat([torch.from_numpy(boxes), torch.ones(len(boxes), 1), torch.zeros(len(boxes), 1)], dim=1)
        results.append(Results(image[..., ::-1].copy(), path='x.jpg', names={0: 'person'}, boxes=data))
    segmenter(results)
    check(f'ultralytics/{option}', [r.masks.data.numpy() > 0.5 for r in results])


@pytest.mark.parametrize('option', OPTIONS)
def test_onnx_runtime(option, tmp_path):
    pytest.importorskip('onnxruntime')
    from rhis_plugin.deploy import OnnxRHIS, export_onnx

    path = export_onnx(golden_model(), tmp_path / 'golden.onnx', image_size=(64, 96))
    runtime = OnnxRHIS(path)
    masks = [runtime.predict([image], [boxes], OPTIONS[option])[0].masks.numpy() for image, boxes in scenes()]
    check(f'onnx/{option}', masks)


@pytest.mark.parametrize('option', OPTIONS)
def test_mmdet_roi_head(option):
    pytest.importorskip('mmdet')
    import torch.nn.functional as F
    from mmdet.structures import DetDataSample
    from mmengine.structures import InstanceData

    from rhis_plugin.mmdet import RHISRoIHead

    cfg = OPTIONS[option]
    head = RHISRoIHead(test_cfg=dict(mask_thr_binary=cfg.threshold, dilation=cfg.dilation, smoothing=cfg.smoothing,
                                     smooth_radius=cfg.smooth_radius))
    head.rhis = golden_model()
    head.eval()
    # The detector's input: each image resized by 1.25 and padded into one 128x160 batch.
    images, samples, results = [], [], []
    for image, boxes in scenes():
        height, width = image.shape[:2]
        scale = 1.25
        tensor = torch.from_numpy(image.copy()).permute(2, 0, 1).float()[None] / 255
        resized = F.interpolate(tensor, scale_factor=scale, mode='bilinear', align_corners=False)[0]
        images.append(F.pad(resized, (0, 160 - resized.shape[-1], 0, 128 - resized.shape[-2])))
        sample = DetDataSample(metainfo=dict(img_shape=tuple(resized.shape[-2:]), ori_shape=(height, width),
                                             scale_factor=(scale, scale)))
        samples.append(sample)
        instances = InstanceData()
        instances.bboxes = torch.from_numpy(boxes) * scale
        instances.labels = torch.zeros(len(boxes), dtype=torch.long)
        instances.scores = torch.ones(len(boxes))
        results.append(instances)
    with torch.no_grad():
        outputs = head.predict(torch.stack(images), results, samples, rescale=True)
    check(f'mmdet/{option}', [o.masks.numpy() for o in outputs])
