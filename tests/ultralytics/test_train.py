"""`rhis-yolo train | val | predict` on a generated YOLO-seg set: frozen and joint training inside Ultralytics'
trainer, mask metrics from its segmentation validator, plain detector checkpoints and the head beside them."""
import csv
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from ultralytics import YOLO
from ultralytics.nn.tasks import DetectionModel

from rhis_plugin.data.synthetic import SceneConfig, generate_dataset
from rhis_plugin.models import load_rhis
from rhis_plugin.ultralytics import YoloSegDataset, load_person_dataset
from rhis_plugin.weights import starter_path

# One pytest-xdist worker runs this module: its trained runs (module fixtures, a minute) are made once.
pytestmark = pytest.mark.xdist_group('ultralytics_train')
ROOT = Path(__file__).resolve().parents[2]
RHIS_YOLO = Path(sys.executable).with_name('rhis-yolo')
# max_det: a random detector's 300 boxes per image would each be segmented in validation.
TINY = ['epochs=1', 'imgsz=128', 'batch=4', 'workers=0', 'exist_ok', 'verbose=False', 'max_det=5']


def rhis_yolo(*args, cwd) -> subprocess.CompletedProcess:
    return subprocess.run([str(RHIS_YOLO), *map(str, args)], cwd=cwd, capture_output=True, text=True, timeout=900)


@pytest.fixture(scope='module')
def yolo_data(tmp_path_factory):
    root = tmp_path_factory.mktemp('ultra')
    cfg = SceneConfig(height=128, width=128, min_persons=2, max_persons=3)
    generate_dataset(root / 'coco' / 'train', 12, seed=0, cfg=cfg)
    generate_dataset(root / 'coco' / 'val', 4, seed=1, cfg=cfg)
    result = subprocess.run([sys.executable, str(ROOT / 'tools/coco_to_yolo.py'), '--coco', str(root / 'coco'),
                             '--out', str(root / 'yolo')], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    # A one-class person detector checkpoint (random weights, fp16 as Ultralytics stores them) that frozen training
    # must not change. (A COCO detector's person row moves into a one-class head by name: Ultralytics' cls_remap.)
    detector = DetectionModel('yolo11n.yaml', nc=1, verbose=False)
    detector.names = {0: 'person'}
    torch.save({'model': detector.half(), 'train_args': {}}, root / 'detector.pt')
    return root


def detector_state(path: Path) -> dict[str, torch.Tensor]:
    ckpt = torch.load(path, map_location='cpu', weights_only=False)
    model = ckpt.get('model') or ckpt['ema']
    assert type(model) is DetectionModel and not hasattr(model, 'rhis')     # a plain detector
    return {k: v.half() if v.is_floating_point() else v for k, v in model.state_dict().items()}


@pytest.fixture(scope='module')
def runs(yolo_data):
    """One short epoch of each mode through the command line (joint through a cfg= file holding rhis keys)."""
    data = yolo_data / 'yolo' / 'data.yaml'
    out = {}
    for mode, extra in (('frozen', ['train', 'rhis_mode=frozen']),
                        ('joint', [f"cfg={ROOT / 'configs/ultralytics/rhis_joint.yaml'}"])):
        result = rhis_yolo(*extra, f'model={yolo_data / "detector.pt"}', f'data={data}', *TINY,
                           f'project={yolo_data / "runs"}', f'name={mode}', cwd=yolo_data)
        assert result.returncode == 0, result.stderr[-4000:]
        out[mode] = yolo_data / 'runs' / mode
    return out


def test_converted_polygons_match_the_coco_masks(yolo_data):
    coco = load_person_dataset(yolo_data / 'coco', 'train')
    yolo = YoloSegDataset(yolo_data / 'yolo' / 'data.yaml', 'train')
    assert len(coco) == len(yolo) == 12
    for index in range(3):
        a, b = coco[index]['masks'], yolo[index]['masks']
        assert len(a) == len(b)
        iou = (a & b).flatten(1).sum(1).float() / (a | b).flatten(1).sum(1).float()
        assert (iou > 0.7).all(), iou                 # polygons trace the masks (joined parts, pixel outline)


@pytest.mark.slow
@pytest.mark.parametrize('mode', ['frozen', 'joint'])
def test_training_writes_mask_metrics_a_plain_detector_and_the_head(runs, yolo_data, mode):
    run = runs[mode]
    with open(run / 'results.csv') as f:
        rows = list(csv.DictReader(f))
    columns = {k.strip() for k in rows[0]}
    assert {'metrics/mAP50-95(M)', 'metrics/mAP50(M)', 'metrics/mAP50-95(B)', 'train/rhis_loss'} <= columns
    assert all(float(row['train/rhis_loss']) > 0 for row in rows)
    best = YOLO(str(run / 'weights' / 'best.pt'))
    assert type(best.model) is DetectionModel and best.task == 'detect'
    for name in ('best.pt', 'last.pt'):
        detector_state(run / 'weights' / name)
    head = load_rhis(run / 'weights' / 'rhis.pth')
    assert (run / 'weights' / 'rhis_last.pth').is_file()
    starter = load_rhis(starter_path())
    trained = {k: v for k, v in head.state_dict().items() if not k.startswith('peopleseg.')}
    assert any(not torch.equal(v, starter.state_dict()[k]) for k, v in trained.items()), 'the head did not train'
    unet = starter.peopleseg.state_dict()
    assert all(torch.equal(v, unet[k]) for k, v in head.peopleseg.state_dict().items()), 'the frozen UNet changed'
    before, after = detector_state(yolo_data / 'detector.pt'), detector_state(run / 'weights' / 'best.pt')
    same = all(torch.equal(before[k], after[k]) for k in before)
    assert same if mode == 'frozen' else not same      # frozen: bit for bit, BatchNorm statistics included


def test_val_prints_mask_metrics_and_writes_coco_json(runs, yolo_data, tmp_path):
    weights = runs['frozen'] / 'weights'
    result = rhis_yolo('val', f'model={weights / "best.pt"}', f'data={yolo_data / "yolo" / "data.yaml"}',
                       f'rhis={weights / "rhis.pth"}', 'imgsz=128', 'batch=4', 'max_det=5', 'save_json',
                       f'project={tmp_path}', 'name=val', cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-4000:]
    assert 'Mask(P' in result.stdout + result.stderr
    assert (tmp_path / 'val' / 'predictions.json').is_file() and (tmp_path / 'val' / 'confusion_matrix.png').is_file()


def test_predict_saves_images_and_a_label_line_per_box(runs, yolo_data, tmp_path):
    weights = runs['joint'] / 'weights'
    result = rhis_yolo('predict', f'model={weights / "best.pt"}', f'source={yolo_data / "coco/val/images"}',
                       f'rhis={weights / "rhis.pth"}', 'imgsz=128', 'conf=0.0', 'max_det=3', 'save', 'save_txt',
                       'rhis_keep_boxes', f'project={tmp_path}', 'name=predict', cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-4000:]
    assert len(list((tmp_path / 'predict').glob('*.jpg'))) == 4
    labels = list((tmp_path / 'predict' / 'labels').glob('*.txt'))
    assert len(labels) == 4 and all(len(p.read_text().splitlines()) == 3 for p in labels)


def test_an_interrupted_run_resumes_with_its_head_and_mode(yolo_data):
    """Stopped after epoch 1 of 2, `resume` finds the head beside the plain last.pt and the run's mode (joint),
    whatever mode the resuming trainer class was made with."""
    from rhis_plugin.ultralytics import rhis_trainer

    def stop(trainer):
        if trainer.epoch == 0:
            raise KeyboardInterrupt

    model = YOLO('yolo11n.yaml')
    model.add_callback('on_fit_epoch_end', stop)
    with pytest.raises(KeyboardInterrupt):
        model.train(trainer=rhis_trainer('joint'), data=str(yolo_data / 'yolo' / 'data.yaml'), epochs=2, imgsz=128,
                    batch=4, workers=0, plots=False, project=str(yolo_data / 'runs'), name='resume', exist_ok=True,
                    verbose=False)
    weights = model.trainer.wdir
    saved = load_rhis(weights / 'rhis_last.pth').state_dict()
    seen = {}

    def on_start(trainer):
        seen.update(epoch=trainer.start_epoch, mode=trainer.rhis_mode,
                    model={k: v.clone() for k, v in trainer.model.rhis.state_dict().items()},
                    ema={k: v.clone() for k, v in trainer.ema.ema.rhis.state_dict().items()})

    resumed = YOLO(str(weights / 'last.pt'))
    resumed.add_callback('on_train_start', on_start)
    resumed.train(trainer=rhis_trainer('frozen'), resume=True, workers=0)
    assert seen['epoch'] == 1 and seen['mode'] == 'joint'
    assert all(torch.equal(v, seen['ema'][k]) and torch.equal(v, seen['model'][k]) for k, v in saved.items())
