"""The predict loop: many boxes stream through RHIS in chunks, with the same masks as one pass."""
import json

import pytest

import numpy as np
import torch
from PIL import Image

from rhis_plugin.deploy import RHISBackend, run_predict
from rhis_plugin.deploy.detectors import Detections
from rhis_plugin.models import build_rhis, save_rhis
from rhis_plugin.postprocess import PostprocessConfig


def test_many_boxes_stream_in_chunks_with_the_masks_of_one_pass(tmp_path):
    torch.manual_seed(0)
    save_rhis(build_rhis('rhis_b0_64x48', aux_heads=False), tmp_path / 'rhis.pth')    # random weights
    rng = np.random.default_rng(0)
    image = (rng.random((64, 80, 3)) * 255).astype(np.uint8)
    Image.fromarray(image).save(tmp_path / 'crowd.png')
    xy = rng.random((60, 2)) * [60, 44]
    boxes = np.concatenate([xy, xy + 4 + rng.random((60, 2)) * 16], axis=1).astype(np.float32)
    dets = Detections(boxes, rng.permutation(60).astype(np.float32) / 60, np.zeros(60, np.int64))
    backend = RHISBackend(tmp_path / 'rhis.pth', allow_random=True)
    cfg = PostprocessConfig(threshold=0.3)
    outputs = {}
    for chunk in (7, 1000):
        out = tmp_path / f'chunk_{chunk}'
        summary = run_predict(lambda image, name='': dets, backend, tmp_path / 'crowd.png', out, cfg, progress=False,
                              chunk=chunk)
        assert summary['instances'] == 60
        outputs[chunk] = json.loads((out / 'results.json').read_text())
        masks = np.stack([np.asarray(Image.open(out / 'masks' / f'crowd_{i:03d}.png')) > 0 for i in range(60)])
        assert masks.sum(axis=0).max() <= 1                       # exclusive across chunks too
    assert [r['bbox'] for r in outputs[7]] == [r['bbox'] for r in outputs[1000]]      # box order kept
    assert [r['segmentation'] for r in outputs[7]] == [r['segmentation'] for r in outputs[1000]]
    entry = outputs[7][0]
    assert entry['score'] == pytest.approx(entry['detector_score'] * entry['mask_quality'], rel=1e-5)
    assert all(0.0 <= r['mask_quality'] <= 1.0 for r in outputs[7])
