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


@pytest.fixture(scope='module')
def tiny_backend(tmp_path_factory):
    root = tmp_path_factory.mktemp('backend')
    torch.manual_seed(0)
    save_rhis(build_rhis('rhislight_lite0_64x48', aux_heads=False), root / 'rhis.pth')    # random weights
    return RHISBackend(root / 'rhis.pth', allow_random=True)


def _folder(root, names):
    root.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    for name in names:
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        Image.fromarray((rng.random((40, 48, 3)) * 255).astype(np.uint8)).save(root / name)
    return root


def _one_box(image, name=''):
    return Detections(np.float32([[4, 4, 30, 36]]), np.float32([0.9]), np.zeros(1, np.int64))


def test_an_interrupted_run_keeps_its_work_and_resumes(tmp_path, tiny_backend):
    """Ctrl-C after 2 of 4 images used to leave --out empty and a rerun started over: now results.json holds the 2
    finished images, and --resume does only the other 2."""
    source = _folder(tmp_path / 'in', [f'img{i}.jpg' for i in range(4)])
    seen = []

    def interrupted(image, name=''):
        if len(seen) == 2:
            raise KeyboardInterrupt
        seen.append(name)
        return _one_box(image)

    out = tmp_path / 'out'
    summary = run_predict(interrupted, tiny_backend, source, out, progress=False)
    assert summary['interrupted'] and summary['frames'] == 2
    assert [r['file_name'] for r in json.loads((out / 'results.json').read_text())] == ['img0.jpg', 'img1.jpg']
    with pytest.raises(ValueError, match='--resume .* --overwrite'):
        run_predict(_one_box, tiny_backend, source, out, progress=False)
    again = []
    summary = run_predict(lambda image, name='': again.append(name) or _one_box(image), tiny_backend, source, out,
                          progress=False, resume=True)
    assert again == ['img2.jpg', 'img3.jpg'] and summary['resumed'] == 2 and not summary['interrupted']
    results = json.loads((out / 'results.json').read_text())
    assert [r['file_name'] for r in results] == [f'img{i}.jpg' for i in range(4)]
    assert [r['image_id'] for r in results] == [1, 2, 3, 4]         # no id reused by the resumed part
    assert sorted(p.name for p in (out / 'overlays').iterdir()) == [f'img{i}.jpg' for i in range(4)]


def test_overwrite_clears_stale_outputs_and_same_stems_do_not_collide(tmp_path, tiny_backend):
    source = _folder(tmp_path / 'in', ['bus.jpg', 'bus.png', 'sub/bus.tif'])
    out = tmp_path / 'out'
    (out / 'masks').mkdir(parents=True)
    (out / 'masks' / 'stale_000.png').write_bytes(b'old')
    summary = run_predict(_one_box, tiny_backend, source, out, progress=False, overwrite=True, recursive=True)
    assert summary['frames'] == 3
    assert sorted(p.name for p in (out / 'overlays').iterdir()) == ['bus.jpg', 'bus_png.jpg', 'sub__bus.jpg']
    assert sorted(p.name for p in (out / 'masks').iterdir()) == ['bus_000.png', 'bus_png_000.png', 'sub__bus_000.png']
    assert {r['file_name'] for r in json.loads((out / 'results.json').read_text())} == {'bus.jpg', 'bus.png',
                                                                                       'sub/bus.tif'}


def test_sigterm_stops_the_run_like_ctrl_c(tmp_path, tiny_backend):
    """SIGTERM used to leave a hidden staging folder and no results: it now ends the run as Ctrl-C does."""
    import os
    import signal
    source = _folder(tmp_path / 'in', ['a.jpg', 'b.jpg', 'c.jpg'])
    calls = []

    def terminated(image, name=''):
        calls.append(name)
        if len(calls) == 2:
            os.kill(os.getpid(), signal.SIGTERM)
        return _one_box(image)

    before = signal.getsignal(signal.SIGTERM)
    summary = run_predict(terminated, tiny_backend, source, tmp_path / 'out', progress=False)
    assert summary['interrupted'] and summary['frames'] <= 2
    assert len(json.loads((tmp_path / 'out' / 'results.json').read_text())) == summary['frames']
    assert signal.getsignal(signal.SIGTERM) == before          # the caller's handler is back
    assert not [p for p in (tmp_path / 'out').iterdir() if p.name.startswith('.rhis-')]
