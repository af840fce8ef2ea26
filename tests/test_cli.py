"""`rhis predict` and `rhis demo`, end to end, including bad input."""
import json
import subprocess
import sys
from contextlib import nullcontext
from functools import partial
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn as nn
from PIL import Image

from rhis_plugin.data.synthetic import SceneConfig, generate_dataset
from rhis_plugin.deploy import export_onnx
from rhis_plugin.models import build_rhis, save_rhis
from rhis_plugin.weights import STARTER_NAME, STARTER_PRESET

# One pytest-xdist worker runs this module: its models and ONNX files (the module fixture) are made once.
pytestmark = pytest.mark.xdist_group('cli')
RHIS = Path(sys.executable).with_name('rhis')


class FixedDetr(nn.Module):
    """A DETR-format ONNX detector with one confident person box."""

    def forward(self, images, orig_target_sizes):
        box = torch.tensor([[[0.1, 0.1, 0.6, 0.9]]]).expand(images.shape[0], -1, -1)
        scores = torch.sigmoid(images.mean((1, 2, 3))[:, None] * 0 + 3.0)
        return torch.zeros(images.shape[0], 1, dtype=torch.int64), box * orig_target_sizes.repeat(1, 2)[:, None], scores


@pytest.fixture(scope='module')
def assets(tmp_path_factory):
    root = tmp_path_factory.mktemp('cli')
    generate_dataset(root / 'data', 3, seed=0, cfg=SceneConfig(height=96, width=128))
    model = build_rhis('rhis_b0_64x48')
    save_rhis(model, root / 'rhis.pth')
    export_onnx(build_rhis('rhis_b0_64x48', aux_heads=False), root / 'rhis.onnx', image_size=(96, 128))
    torch.onnx.export(FixedDetr(), (torch.rand(1, 3, 64, 64), torch.tensor([[64, 64]])), str(root / 'detr.onnx'),
                      input_names=['images', 'orig_target_sizes'], output_names=['labels', 'boxes', 'scores'],
                      dynamic_axes={'images': {0: 'n'}, 'orig_target_sizes': {0: 'n'}}, opset_version=17, dynamo=False)
    return root


def rhis(*args, cwd, allow_random: bool = True) -> subprocess.CompletedProcess:
    """Runs ``rhis``; ``predict`` opts in to the random test models (``--allow-random``) unless told not to."""
    args = [*map(str, args)] + (['--allow-random'] if args[0] == 'predict' and allow_random else [])
    return subprocess.run([str(RHIS), *args], cwd=cwd, capture_output=True, text=True, timeout=900)


def rhis_in_process(capsys, *args, cwd=None, allow_random: bool = True) -> subprocess.CompletedProcess:
    """``rhis`` in this process, through the function its console script calls (``rhis_plugin.cli.main``): for the
    error paths, where starting a process costs more than the check. An exception would fail the test. ``cwd`` is
    taken for calls written for :func:`rhis` and not used: the tests pass absolute paths."""
    from rhis_plugin.cli import main
    args = [*map(str, args)] + (['--allow-random'] if args[0] == 'predict' and allow_random else [])
    code = main(args)
    out, err = capsys.readouterr()
    return subprocess.CompletedProcess(args, code, out, err)


@pytest.mark.parametrize('detector, weights', [('detr.onnx', 'rhis.onnx'), ('detr.onnx', 'rhis.pth')])
def test_predict_writes_overlays_masks_and_coco_results(assets, tmp_path, detector, weights):
    out = tmp_path / 'out'
    result = rhis('predict', '--detector', assets / detector, '--rhis', assets / weights, '--source',
                  assets / 'data' / 'images', '--out', out, '--threshold', '0.3', '--dilate', '1', cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    assert sorted(p.name for p in (out / 'overlays').iterdir()) == [f'synthetic_00000{i}.jpg' for i in range(3)]
    assert len(list((out / 'masks').glob('*.png'))) == 3
    results = json.loads((out / 'results.json').read_text())
    assert len(results) == 3 and all({'bbox', 'score', 'segmentation', 'file_name'} <= set(r) for r in results)
    assert not list(out.glob('.rhis-*'))


@pytest.mark.parametrize('command', ['predict', 'eval'])
def test_paste_back_flags_reach_the_postprocess_config(monkeypatch, command):
    """Both commands spell the paste-back options alike; masks are exclusive unless ``--no-exclusive``."""
    import rhis_plugin.cli as cli
    import rhis_plugin.deploy.detectors as detectors
    import rhis_plugin.deploy.pipeline as pipeline
    seen = []
    monkeypatch.setattr(cli, '_eval', lambda args, postprocess: seen.append(postprocess) or 0)
    monkeypatch.setattr(detectors, 'load_detector', lambda *args, **kwargs: None)
    monkeypatch.setattr(pipeline, 'RHISBackend', lambda *args: None)
    monkeypatch.setattr(pipeline, 'run_predict', lambda detector, backend, source, out, postprocess, **kwargs:
                        seen.append(postprocess) or exit(0))
    base = ['predict', '--detector', 'd.onnx', '--source', 's', '--out', 'o'] if command == 'predict' else \
        ['eval', '--data', 'x']
    with pytest.raises(SystemExit) if command == 'predict' else nullcontext():
        cli.main([*base, '--threshold', '0.4', '--dilate', '2', '--no-exclusive'])
    assert (seen[0].threshold, seen[0].dilation, seen[0].exclusive) == (0.4, 2, False)
    assert cli._parser().parse_args(base).exclusive


def test_predict_binary_mode_and_a_video(assets, tmp_path):
    import cv2
    video = tmp_path / 'clip.mp4'
    writer = cv2.VideoWriter(str(video), cv2.VideoWriter_fourcc(*'mp4v'), 5, (128, 96))
    for index in range(3):
        writer.write(np.asarray(Image.open(assets / 'data' / 'images' / f'synthetic_00000{index}.jpg'))[..., ::-1])
    writer.release()
    result = rhis('predict', '--detector', assets / 'detr.onnx', '--rhis', assets / 'rhis.pth', '--source', video,
                  '--out', tmp_path / 'out', '--binary', '--threshold', '0.0', cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    assert len(list((tmp_path / 'out' / 'overlays').glob('clip_*.jpg'))) == 3
    annotated = cv2.VideoCapture(str(tmp_path / 'out' / 'clip_overlay.mp4'))     # beside the frames, fps kept
    assert annotated.get(cv2.CAP_PROP_FRAME_COUNT) == 3 and annotated.get(cv2.CAP_PROP_FPS) == 5
    assert (annotated.get(cv2.CAP_PROP_FRAME_WIDTH), annotated.get(cv2.CAP_PROP_FRAME_HEIGHT)) == (128, 96)
    annotated.release()
    assert 'annotated video' in result.stdout


def test_json_detections_keep_their_coco_ids(assets, tmp_path):
    """COCO-results JSON: category and image ids pass through (person stays 1), other categories are left out."""
    dets = tmp_path / 'dets.json'
    dets.write_text(json.dumps([
        {'file_name': 'synthetic_000000.jpg', 'image_id': 42, 'bbox': [10, 10, 40, 60], 'score': 0.9,
         'category_id': 1},
        {'file_name': 'synthetic_000000.jpg', 'image_id': 42, 'bbox': [60, 10, 40, 40], 'score': 0.8,
         'category_id': 3}]))
    result = rhis('predict', '--detector', dets, '--rhis', assets / 'rhis.onnx', '--source',
                  assets / 'data' / 'images' / 'synthetic_000000.jpg', '--out', tmp_path / 'out', cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    results = json.loads((tmp_path / 'out' / 'results.json').read_text())
    assert [(r['category_id'], r['image_id']) for r in results] == [(1, 42)]


def test_invalid_boxes_are_dropped_not_fatal(assets, tmp_path):
    """A NaN box used to crash the process inside roi_align (exit 139, nothing written); a reversed box failed in
    the overlay drawing. Both are dropped, counted and warned about; the valid box gets its mask."""
    dets = tmp_path / 'dets.json'
    dets.write_text(json.dumps([{'file_name': 'synthetic_000000.jpg', 'bbox': bbox, 'score': 0.9, 'category_id': 1}
                                for bbox in ([10, 10, 40, 60], [float('nan'), 10, 40, 60], [50, 10, -20, 30])]))
    result = rhis('predict', '--detector', dets, '--rhis', assets / 'rhis.onnx', '--source',
                  assets / 'data' / 'images' / 'synthetic_000000.jpg', '--out', tmp_path / 'out', cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    assert '2 invalid detector box(es) dropped' in result.stdout and 'invalid detector box' in result.stderr
    assert len(json.loads((tmp_path / 'out' / 'results.json').read_text())) == 1


def test_no_detections_is_not_an_error(assets, tmp_path):
    dets = tmp_path / 'none.json'
    dets.write_text('[]')
    result = rhis('predict', '--detector', dets, '--rhis', assets / 'rhis.onnx', '--source',
                  assets / 'data' / 'images', '--out', tmp_path / 'out', cwd=tmp_path)
    assert result.returncode == 0 and '3 without any detection' in result.stdout
    assert json.loads((tmp_path / 'out' / 'results.json').read_text()) == []


def test_bad_inputs_fail_cleanly(assets, tmp_path, capsys):
    """Each bad input ends ``rhis predict`` with a one-line error and exit code 2."""
    rhis = partial(rhis_in_process, capsys)
    broken = tmp_path / 'broken'
    broken.mkdir()
    (broken / 'a.jpg').write_bytes(Image.open(assets / 'data' / 'images' / 'synthetic_000000.jpg').tobytes()[:10])
    (broken / 'b.jpg').write_bytes((assets / 'data' / 'images' / 'synthetic_000001.jpg').read_bytes())
    # Default: the corrupt file is reported and skipped, the rest is written, the summary counts it.
    result = rhis('predict', '--detector', assets / 'detr.onnx', '--rhis', assets / 'rhis.onnx', '--source', broken,
                  '--out', tmp_path / 'out0', cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-2000:]
    assert 'skipped' in result.stderr and 'a.jpg' in result.stderr and '1 unreadable file(s) skipped' in result.stdout
    assert 'pi-heif' not in result.stdout + result.stderr                # nothing tries to install packages
    assert [p.name for p in (tmp_path / 'out0' / 'overlays').iterdir()] == ['b.jpg']
    # --strict: the first unreadable file stops the run, and nothing is written.
    result = rhis('predict', '--detector', assets / 'detr.onnx', '--rhis', assets / 'rhis.onnx', '--source', broken,
                  '--out', tmp_path / 'out1', '--strict', cwd=tmp_path)
    assert result.returncode == 2 and 'cannot read image' in result.stderr
    assert list((tmp_path / 'out1').iterdir()) == []                      # no partial files
    # A --rhis file that is not a checkpoint: one line, no traceback.
    (tmp_path / 'junk.pth').write_bytes(b'not a checkpoint at all')
    result = rhis('predict', '--detector', assets / 'detr.onnx', '--rhis', tmp_path / 'junk.pth', '--source', broken,
                  '--out', tmp_path / 'out5', cwd=tmp_path)
    assert result.returncode == 2 and 'is not an RHIS checkpoint' in result.stderr
    assert 'Traceback' not in result.stderr
    (tmp_path / 'empty.mp4').write_bytes(b'')
    result = rhis('predict', '--detector', assets / 'detr.onnx', '--rhis', assets / 'rhis.onnx', '--source',
                  tmp_path / 'empty.mp4', '--out', tmp_path / 'out2', cwd=tmp_path)
    assert result.returncode == 2 and 'video' in result.stderr
    result = rhis('predict', '--detector', assets / 'detr.onnx', '--rhis', assets / 'detr.onnx', '--source',
                  assets / 'data' / 'images', '--out', tmp_path / 'out3', cwd=tmp_path)
    assert result.returncode == 2 and 'does not follow the RHIS contract' in result.stderr
    result = rhis('predict', '--detector', assets / 'detr.onnx', '--rhis', assets / 'rhis.onnx', '--source',
                  tmp_path / 'missing', '--out', tmp_path / 'out4', cwd=tmp_path)
    assert result.returncode == 2 and 'source not found' in result.stderr


def test_core_install_runs_rhis_predict_and_names_missing_extras(assets, tmp_path):
    """As on `pip install rhis_plugin` without extras: a PyTorch checkpoint and a COCO detections file work;
    a framework detector names its extra in one line."""
    dets = tmp_path / 'dets.json'
    dets.write_text(json.dumps([{'file_name': 'synthetic_000000.jpg', 'bbox': [10, 10, 40, 60], 'score': 0.9,
                                 'category_id': 1}]))
    frameworks = ('mmdet', 'mmcv', 'mmengine', 'ultralytics', 'onnx', 'onnxruntime', 'cv2')
    code = ('import sys\n'
            f'for name in {frameworks!r}: sys.modules[name] = None\n'
            'from rhis_plugin.cli import main\n'
            'code = main(sys.argv[1:])\n'
            f'loaded = [m for m, mod in sys.modules.items() if mod is not None and m.split(".")[0] in {frameworks!r}]\n'
            'assert not loaded, loaded\n'
            'sys.exit(code)\n')
    images = assets / 'data' / 'images'
    result = subprocess.run([sys.executable, '-c', code, 'predict', '--detector', str(dets), '--rhis',
                             str(assets / 'rhis.pth'), '--source', str(images), '--out', str(tmp_path / 'out'),
                             '--no-progress', '--allow-random'], capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    assert len(json.loads((tmp_path / 'out' / 'results.json').read_text())) == 1
    result = subprocess.run([sys.executable, '-c', code, 'predict', '--detector', 'yolo11n.yaml', '--rhis',
                             str(assets / 'rhis.pth'), '--source', str(images), '--out', str(tmp_path / 'out2')],
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 2 and "pip install 'rhis_plugin[ultralytics]'" in result.stderr
    assert 'Traceback' not in result.stderr
    result = subprocess.run([sys.executable, '-c', code, 'demo', '--help'], capture_output=True, text=True,
                            timeout=600)
    assert result.returncode == 0 and '--train' in result.stdout


def test_predict_refuses_a_random_people_seg_unet_naming_the_fix(assets, tmp_path, capsys):
    rhis = partial(rhis_in_process, capsys)
    for weights in ('rhis.pth', 'rhis.onnx'):
        result = rhis('predict', '--detector', assets / 'detr.onnx', '--rhis', assets / weights, '--source',
                      assets / 'data' / 'images', '--out', tmp_path / 'out', cwd=tmp_path, allow_random=False)
        assert result.returncode == 2 and '--allow-random' in result.stderr and 'starter' in result.stderr
        assert 'Traceback' not in result.stderr and not (tmp_path / 'out' / 'results.json').exists()
    result = rhis('predict', '--detector', assets / 'detr.onnx', '--rhis', 'random', '--source',
                  assets / 'data' / 'images', '--out', tmp_path / 'out', cwd=tmp_path, allow_random=False)
    assert result.returncode == 0, result.stderr[-2000:]


def test_demo_segments_the_bundled_photos_with_the_starter_model(tmp_path):
    result = rhis('demo', '--out', tmp_path / 'demo', '--detector', 'hog', cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    out = tmp_path / 'demo'
    assert sorted(p.name for p in (out / 'overlays').glob('*.jpg')) == ['bus.jpg', 'zidane.jpg']
    assert list((out / 'masks').glob('*.png')) and json.loads((out / 'results.json').read_text())
    assert 'ms per image' in result.stdout and 'detector hog' in result.stdout


@pytest.mark.slow
def test_demo_trains_briefly_on_generated_scenes_from_a_pretrained_start(tmp_path):
    result = rhis('demo', '--synthetic', '--out', tmp_path / 'demo', '--iters', '15', '--num-train', '8',
                  '--num-val', '4', cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    out = tmp_path / 'demo'
    assert len(list((out / 'overlays').glob('*.jpg'))) == 4
    assert (out / 'loss_curve.png').stat().st_size > 0 and (out / 'rhis_demo.pth').is_file()
    metrics = json.loads((out / 'metrics.json').read_text())
    assert {'target_iou', 'box_filled_iou', 'segm_AP', 'segm_AP50'} <= set(metrics)
    assert 'mask AP, image space' in (out / 'metrics.md').read_text() and str(out) in result.stdout
    from rhis_plugin.models import load_rhis, peopleseg_origin
    assert STARTER_NAME in peopleseg_origin(load_rhis(out / 'rhis_demo.pth'))


def test_demo_fine_tunes_the_starter_with_init(tmp_path):
    result = rhis('demo', '--synthetic', '--init', 'starter', '--out', tmp_path / 'demo', '--iters', '2',
                  '--num-train', '4', '--num-val', '2', cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    metrics = json.loads((tmp_path / 'demo' / 'metrics.json').read_text())
    assert metrics['preset'] == STARTER_PRESET and metrics['iterations'] == 2 and metrics['amp'] is False
