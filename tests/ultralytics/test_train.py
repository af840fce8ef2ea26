"""Frozen-detector training on synthetic data converted to Ultralytics format, and mask-AP validation."""
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from ultralytics import YOLO
from ultralytics.engine.results import Results

from rhis_plugin.data.synthetic import SceneConfig, generate_dataset
from rhis_plugin.models import build_rhis
from rhis_plugin.postprocess import PostprocessConfig
from rhis_plugin.training import TrainConfig, train_rhis
from rhis_plugin.ultralytics import (YoloSegDataset, add_rhis, detector_proposals, evaluate_mask_ap,
                                     load_person_dataset)

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope='module')
def yolo_data(tmp_path_factory):
    root = tmp_path_factory.mktemp('ultra')
    cfg = SceneConfig(height=128, width=128, min_persons=2, max_persons=3)
    generate_dataset(root / 'coco' / 'train', 12, seed=0, cfg=cfg)
    generate_dataset(root / 'coco' / 'val', 4, seed=1, cfg=cfg)
    result = subprocess.run([sys.executable, str(ROOT / 'tools/coco_to_yolo.py'), '--coco', str(root / 'coco'),
                             '--out', str(root / 'yolo')], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    return root


def test_converted_polygons_match_the_coco_masks(yolo_data):
    coco = load_person_dataset(yolo_data / 'coco', 'train')
    yolo = YoloSegDataset(yolo_data / 'yolo' / 'data.yaml', 'train')
    assert len(coco) == len(yolo) == 12
    for index in range(3):
        a, b = coco[index]['masks'], yolo[index]['masks']
        assert len(a) == len(b)
        iou = (a & b).flatten(1).sum(1).float() / (a | b).flatten(1).sum(1).float()
        assert (iou > 0.7).all(), iou                 # polygons trace the masks (joined parts, pixel outline)


def test_frozen_detector_training_lowers_the_head_loss(yolo_data):
    detector = YOLO('yolo11n.yaml')
    before = {k: v.clone() for k, v in detector.model.state_dict().items()}
    dataset = YoloSegDataset(yolo_data / 'yolo' / 'data.yaml', 'train', image_size=(128, 128))
    history = train_rhis(build_rhis('rhis_b0_64x48', roi_size=(32, 32)), dataset,
                         TrainConfig(iters=40, batch_size=4, lr=5e-3, log_every=10), log=lambda _: None,
                         proposals_fn=detector_proposals(detector, [0], conf=0.0, imgsz=128))
    assert history[-1]['loss'] < history[0]['loss']
    for key, value in detector.model.state_dict().items():
        assert torch.equal(value, before[key]), f'detector changed: {key}'


@pytest.mark.slow
def test_training_tool_writes_weights_the_callback_loads(yolo_data, tmp_path):
    weights = tmp_path / 'rhis.pth'
    result = subprocess.run(
        [sys.executable, str(ROOT / 'tools/train_rhis_ultralytics.py'), '--config',
         str(ROOT / 'configs/ultralytics/rhis_frozen.yaml'), 'model=yolo11n.yaml',
         f'data={yolo_data / "yolo" / "data.yaml"}', 'iters=10', 'batch=4', 'imgsz=128', 'detector_conf=0.0',
         f'out={weights}'], cwd=tmp_path, capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, result.stderr[-3000:]
    assert 'metrics/mAP50-95(M)' in result.stdout and weights.is_file()
    model = YOLO('yolo11n.yaml')
    segmenter = add_rhis(model, weights=weights, classes=None, postprocess=PostprocessConfig(threshold=0.0))
    assert segmenter.model.cfg.roi_size == (64, 48)
    image = (np.random.default_rng(0).random((128, 128, 3)) * 255).astype(np.uint8)
    result = model.predict(image, conf=0.0, max_det=2, imgsz=128, verbose=False)[0]
    assert result.masks.data.shape == (len(result.boxes), 128, 128)


class OracleDetector:
    """Predicts the GT instances of a dataset, masks included: mask AP must be 1."""
    names = {0: 'person'}

    def __init__(self, dataset):
        self.samples = iter([dataset[i] for i in range(len(dataset))])

    def predict(self, image, **kwargs):
        sample = next(self.samples)
        count = len(sample['boxes'])
        boxes = torch.cat([sample['boxes'], torch.ones(count, 1), torch.zeros(count, 1)], 1)
        result = Results(image, path='x', names=self.names, boxes=boxes)
        result.update(masks=sample['masks'].float())
        return [result]


def test_mask_ap_of_a_perfect_prediction_is_one(yolo_data):
    dataset = load_person_dataset(yolo_data / 'coco', 'val')
    metrics = evaluate_mask_ap(OracleDetector(dataset), dataset, attach=False)
    assert metrics['metrics/mAP50-95(M)'] > 0.99 and metrics['metrics/mAP50(B)'] > 0.99


def test_joint_training_trains_detector_and_head(yolo_data):
    from ultralytics.nn.tasks import DetectionModel

    from rhis_plugin.ultralytics import rhis_joint_trainer

    gradients = {'detector': 0.0, 'rhis': 0.0}

    def watch_gradients(trainer):
        for name, param in trainer.model.named_parameters():
            if not param.requires_grad:      # the people-seg UNet stays frozen
                continue
            part = 'rhis' if name.startswith('rhis.') else 'detector'
            param.register_hook(
                lambda g, part=part: gradients.__setitem__(part, gradients[part] + float(g.abs().sum())))

    unet_before = {}

    def remember_unet(trainer):
        unet_before.update({k: v.detach().clone() for k, v in trainer.model.rhis.peopleseg.state_dict().items()})

    model = YOLO('yolo11n.yaml')
    model.add_callback('on_train_start', watch_gradients)
    model.add_callback('on_train_start', remember_unet)
    model.train(trainer=rhis_joint_trainer('rhis_lite0_64x48', peopleseg='starter'), data=str(yolo_data / 'yolo' / 'data.yaml'), epochs=1, imgsz=128, batch=4,
                workers=0, device='cpu', val=False, plots=False, amp=False, project=str(yolo_data / 'runs'),
                name='joint', exist_ok=True, verbose=False)
    losses = model.trainer.tloss
    assert {'box_loss', 'cls_loss', 'dfl_loss', 'rhis_loss'} <= set(losses)
    assert all(torch.isfinite(v) for v in losses.values())
    assert gradients['detector'] > 0 and gradients['rhis'] > 0
    # The frozen people-seg UNet stays frozen through Ultralytics' trainer (which unfreezes float parameters).
    trained = model.trainer.model
    trained = trained.module if hasattr(trained, 'module') else trained
    assert unet_before and not any(p.requires_grad for p in trained.rhis.peopleseg.parameters())
    after = trained.rhis.peopleseg.state_dict()
    assert all(torch.equal(unet_before[k], after[k].to(unet_before[k].device)) for k in unet_before)
    # The starter's UNet went in (rhis_peopleseg), so the saved head is usable without opting in to random weights.
    head = model.trainer.wdir / 'rhis.pth'
    segmenter = add_rhis(YOLO('yolo11n.yaml'), weights=head)
    assert segmenter.model.cfg.roi_size == (64, 48)
    # last.pt is a plain detector checkpoint (plain `yolo` loads it anywhere); resuming finds the head beside it.
    last = torch.load(model.trainer.last, map_location='cpu', weights_only=False)
    detector = last['model'] or last['ema']          # the final strip moves the EMA into 'model'
    assert type(detector) is DetectionModel and not hasattr(detector, 'rhis')
    assert type(YOLO(str(model.trainer.last)).model) is DetectionModel
    assert (model.trainer.wdir / 'rhis_last.pth').is_file()
