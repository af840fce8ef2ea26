"""Frozen and joint training behave as documented; the wrapper's input handling and predictions."""
import copy
import warnings
from pathlib import Path

import pytest
import torch
from mmengine.config import Config
from mmengine.dataset import pseudo_collate

import rhis_plugin.mmdet  # noqa: F401
from rhis_plugin.mmdet.models.detectors import UntrainedDetectorWarning
from mmdet.registry import DATASETS, MODELS

CONFIGS = Path(__file__).resolve().parents[4] / 'configs' / 'mmdet'


def small_model_cfg(config: str, **changes) -> Config:
    cfg = Config.fromfile(str(CONFIGS / config))
    detector = cfg.model.get('detector')
    if detector is not None:
        detector.num_queries = 50
        detector.test_cfg.max_per_img = 20
        detector.dn_cfg.group_cfg.num_dn_queries = 20
    head = cfg.model.roi_head.get('rhis', cfg.model.roi_head)   # RHISMaskRoIHead nests the RHIS head
    head.peopleseg_checkpoint = 'random'       # the configs chain stage 1; these tests opt in to a random UNet
    cfg.model.update(changes)
    return cfg


def make_batch(cfg: Config, root: Path, model) -> dict:
    dataset_cfg = copy.deepcopy(cfg.train_dataloader.dataset)
    dataset_cfg.data_root = f'{root}/'
    dataset_cfg.pipeline[2].scale = (128, 128)
    dataset_cfg.pipeline[3].prob = 0.0
    dataset = DATASETS.build(dataset_cfg)
    return model.data_preprocessor(pseudo_collate([dataset[0], dataset[1]]), True)


def train_steps(model, batch, steps: int = 2) -> None:
    optimizer = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=1e-3)
    model.train()
    for _ in range(steps):
        losses = model.loss(batch['inputs'], copy.deepcopy(batch['data_samples']))
        loss, _ = model.parse_losses(losses)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()


@pytest.fixture(scope='module')
def detector_checkpoint(tmp_path_factory):
    from mmengine.registry import DefaultScope
    cfg = small_model_cfg('rhis/rhis-b0_rtdetr-r18_1xb4-36e_coco-person.py')
    with DefaultScope.overwrite_default_scope('mmdet'):    # module scope: built before the per-test scope fixture
        detector = MODELS.build(cfg.model.detector)
    detector.init_weights()
    path = tmp_path_factory.mktemp('ckpt') / 'rtdetr.pth'
    torch.save({'state_dict': detector.state_dict(), 'meta': {}}, path)
    return path


def test_frozen_detector_is_bit_identical_and_gets_no_gradient(synthetic_root, detector_checkpoint):
    cfg = small_model_cfg('rhis/rhis-b0_rtdetr-r18-frozen_1xb4-36e_coco-person.py', detector_checkpoint=str(detector_checkpoint))
    model = MODELS.build(cfg.model)
    model.init_weights()
    saved = torch.load(detector_checkpoint, weights_only=True)['state_dict']
    for name, value in model.detector.state_dict().items():
        assert torch.equal(value, saved[name]), f'{name} not loaded from the checkpoint'
    batch = make_batch(cfg, synthetic_root, model)
    train_steps(model, batch)
    assert not model.detector.training and model.roi_head.training
    for name, param in model.detector.named_parameters():
        assert param.grad is None and not param.requires_grad, name
    for name, value in model.detector.state_dict().items():      # BN running stats included
        assert torch.equal(value, saved[name]), f'{name} changed while frozen'
    assert any(p.grad is not None for p in model.roi_head.parameters())


def test_joint_mode_trains_both(synthetic_root):
    cfg = small_model_cfg('rhis/rhis-b0_rtdetr-r18_1xb4-36e_coco-person.py')
    model = MODELS.build(cfg.model)
    model.init_weights()
    batch = make_batch(cfg, synthetic_root, model)
    model.train()
    losses = model.loss(batch['inputs'], copy.deepcopy(batch['data_samples']))
    assert any(k.startswith('loss_rhis_') for k in losses) and 'loss_cls' in losses
    loss, _ = model.parse_losses(losses)
    loss.backward()
    assert any(p.grad is not None and p.grad.abs().sum() > 0 for p in model.detector.parameters())
    assert any(p.grad is not None and p.grad.abs().sum() > 0 for p in model.roi_head.rhis.head.parameters())


def test_images_are_recovered_from_the_preprocessor(synthetic_root):
    cfg = small_model_cfg('rhis/rhis-b0_gt-boxes_1xb4-36e_coco-person.py')
    model = MODELS.build(cfg.model)
    batch = make_batch(cfg, synthetic_root, model)
    images = model.images_rgb01(batch['inputs'])
    assert images.min() >= 0 and images.max() <= 1 and images.shape[1] == 3
    # The preprocessor scaled RGB by 1/255: recovering it is exact.
    assert torch.allclose(images, batch['inputs'].clamp(0, 1))


def test_gt_box_predictions_are_in_original_image_space(synthetic_root):
    cfg = small_model_cfg('rhis/rhis-b0_gt-boxes_1xb4-36e_coco-person.py')
    model = MODELS.build(cfg.model)
    model.init_weights()
    model.eval()
    batch = make_batch(cfg, synthetic_root, model)
    with torch.no_grad():
        samples = model.predict(batch['inputs'], batch['data_samples'], rescale=True)
    for sample in samples:
        pred = sample.pred_instances
        height, width = sample.metainfo['ori_shape']
        assert pred.masks.shape == (len(pred.bboxes), height, width) and pred.masks.dtype == torch.bool
        assert len(pred.bboxes) == len(sample.gt_instances)


def test_bad_mode_and_missing_parts():
    head = dict(type='RHISRoIHead', preset='rhis_b0_64x48')
    with pytest.raises(ValueError, match='mode must be one of'):
        MODELS.build(dict(type='RHISDetector', roi_head=head, mode='oracle'))
    with pytest.raises(ValueError, match='takes no detector'):
        MODELS.build(dict(type='RHISDetector', roi_head=head, mode='joint'))


@pytest.mark.slow
def test_rhis_as_mask_branch_of_faster_rcnn(synthetic_root):
    cfg = Config.fromfile(str(CONFIGS / 'rhis/rhis-b0_faster-rcnn_r18_fpn_1xb4-36e_coco-person.py'))
    cfg.model.roi_head.rhis.peopleseg_checkpoint = 'random'      # opt in: no stage-1 UNet in this test
    model = MODELS.build(cfg.model)
    model.init_weights()
    batch = make_batch(cfg, synthetic_root, model)
    # DetInferencer / mim test of a config with no checkpoint: the boxes are random, and the user is told (once).
    model.eval()
    with torch.no_grad(), pytest.warns(UntrainedDetectorWarning, match='never loaded nor trained'):
        model.predict(batch['inputs'], batch['data_samples'])
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter('error', UntrainedDetectorWarning)
        model.predict(batch['inputs'], batch['data_samples'])             # once per model
    loaded, head_only = MODELS.build(cfg.model), MODELS.build(cfg.model)
    loaded.load_state_dict(model.state_dict())                         # a checkpoint of the whole model
    head_only.load_state_dict({k: v for k, v in model.state_dict().items() if k.startswith('roi_head.rhis')},
                              strict=False)
    assert loaded.detector_loaded and not head_only.detector_loaded   # the box branch of the second is random
    model.train()
    losses = model.loss(batch['inputs'], copy.deepcopy(batch['data_samples']))
    assert {'loss_rpn_cls', 'loss_cls', 'loss_bbox', 'loss_rhis_ce'} <= set(losses)
    loss, _ = model.parse_losses(losses)
    loss.backward()
    assert model.roi_head.images is None                  # lent for the call only
    model.eval()
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter('error', UntrainedDetectorWarning)      # trained: no warning
        samples = model.predict(batch['inputs'], batch['data_samples'], rescale=True)
    for sample in samples:
        pred = sample.pred_instances
        assert pred.masks.shape == (len(pred.bboxes), *sample.metainfo['ori_shape'])
    with pytest.raises(RuntimeError, match='RHISTwoStageDetector'):
        model.roi_head.loss(None, [], batch['data_samples'])


def test_gt_boxes_survive_a_test_time_resize(synthetic_root):
    """Test images resized by 0.5: oracle boxes must come back in original coordinates, equal to the GT."""
    import json
    cfg = small_model_cfg('rhis/rhis-b0_gt-boxes_1xb4-36e_coco-person.py')
    model = MODELS.build(cfg.model)
    model.init_weights()
    model.eval()
    dataset_cfg = copy.deepcopy(cfg.val_dataloader.dataset)
    dataset_cfg.data_root = f'{synthetic_root}/'
    dataset_cfg.pipeline[2].scale = (64, 64)
    dataset = DATASETS.build(dataset_cfg)
    batch = model.data_preprocessor(pseudo_collate([dataset[0]]), False)
    with torch.no_grad():
        sample = model.predict(batch['inputs'], batch['data_samples'], rescale=True)[0]
    assert sample.metainfo['scale_factor'][0] == pytest.approx(0.5)
    annotations = json.loads((synthetic_root / 'val' / 'annotations.json').read_text())['annotations']
    expected = torch.tensor([[x, y, x + w, y + h] for x, y, w, h in
                             (a['bbox'] for a in annotations if a['image_id'] == sample.metainfo['img_id'])])
    assert torch.allclose(sample.pred_instances.bboxes, expected, atol=1.0)
    assert sample.pred_instances.masks.shape[-2:] == (128, 128)
