"""Inference from a config as mmdet users run it: init_detector + inference_detector, DetInferencer, mim test
--show-dir; a frozen-detector config infers from its own checkpoint; gt-box configs refuse raw images.

Weights are explicitly random (built from the config and saved): these tests check the plumbing, not quality.
"""
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from mmengine.config import Config

import rhis_plugin.mmdet  # noqa: F401
from mmdet.registry import MODELS

ROOT = Path(__file__).resolve().parents[2]
CONFIGS = ROOT / 'configs' / 'mmdet'
FROZEN = CONFIGS / 'rhis' / 'rhis-b0_rtdetr-r18-frozen_1xb4-36e_coco-person.py'
GT_BOXES = CONFIGS / 'rhis' / 'rhis-b0_gt-boxes_1xb4-36e_coco-person.py'
# Small RT-DETR, and every pixel of a person box claimed (random weights give probabilities near 1/3).
SMALL = {'model.detector.num_queries': 20, 'model.detector.test_cfg.max_per_img': 5,
         'model.detector.dn_cfg.group_cfg.num_dn_queries': 10, 'model.roi_head.test_cfg.mask_thr_binary': 0.0,
         'model.roi_head.peopleseg_checkpoint': 'random'}


def random_checkpoint(config: Path, path: Path, options: dict) -> Path:
    """A whole-model checkpoint with random weights, as mmengine saves one (``state_dict`` + ``meta``)."""
    cfg = Config.fromfile(str(config))
    cfg.merge_from_dict(options)
    torch.manual_seed(0)
    model = MODELS.build(cfg.model)
    model.init_weights()
    torch.save({'state_dict': model.state_dict(),
                'meta': {'dataset_meta': {'classes': ('person',)}, 'cfg': cfg.pretty_text}}, path)
    return path


@pytest.fixture(scope='module')
def frozen_checkpoint(tmp_path_factory):
    from mmengine.registry import DefaultScope
    with DefaultScope.overwrite_default_scope('mmdet'):
        return random_checkpoint(FROZEN, tmp_path_factory.mktemp('frozen') / 'epoch_1.pth', SMALL)


@pytest.fixture(scope='module')
def image(synthetic_root) -> np.ndarray:
    from rhis_plugin.data import read_rgb_image
    return read_rgb_image(synthetic_root / 'val' / 'images' / 'synthetic_000000.jpg')[..., ::-1].copy()   # BGR


def test_frozen_config_infers_from_its_own_checkpoint(frozen_checkpoint, image):
    """No detector_checkpoint: the trained checkpoint holds the detector; masks come back at the image size."""
    from mmdet.apis import inference_detector, init_detector
    model = init_detector(str(FROZEN), str(frozen_checkpoint), device='cpu', cfg_options=dict(SMALL))
    assert model.detector_loaded
    pred = inference_detector(model, image).pred_instances
    assert len(pred) > 0 and pred.masks.shape == (len(pred), *image.shape[:2]) and pred.masks.any()


def test_frozen_training_without_the_detector_is_refused():
    cfg = Config.fromfile(str(FROZEN))
    cfg.merge_from_dict(SMALL)
    model = MODELS.build(cfg.model)
    with pytest.raises(RuntimeError, match='model.detector_checkpoint='):
        model.loss(torch.rand(1, 3, 64, 64), [])


def test_det_inferencer_draws_the_masks(frozen_checkpoint, synthetic_root, tmp_path):
    from mmdet.apis import DetInferencer
    cfg = Config.fromfile(str(FROZEN))
    cfg.merge_from_dict(SMALL)
    inferencer = DetInferencer(model=cfg, weights=str(frozen_checkpoint), device='cpu', show_progress=False)
    path = synthetic_root / 'val' / 'images' / 'synthetic_000000.jpg'
    result = inferencer(str(path), return_vis=True, pred_score_thr=0.0, no_save_vis=True, return_datasamples=True)
    masks = result['predictions'][0].pred_instances.masks.numpy()
    drawn = result['visualization'][0].astype(np.int32)
    from rhis_plugin.data import read_rgb_image
    original = read_rgb_image(path).astype(np.int32)           # the visualisation is RGB too
    assert masks.any()
    changed = np.abs(drawn - original).sum(-1) > 0
    assert changed[masks.any(0)].mean() > 0.5, 'the masks are not drawn'


def test_gt_box_config_refuses_raw_images_and_gives_nothing_for_annotated_images_without_people(
        image, tmp_path, synthetic_root):
    from mmdet.apis import inference_detector, init_detector
    from mmengine.registry import DefaultScope
    with DefaultScope.overwrite_default_scope('mmdet'):
        checkpoint = random_checkpoint(GT_BOXES, tmp_path / 'gt.pth', {'model.roi_head.peopleseg_checkpoint': 'random'})
    model = init_detector(str(GT_BOXES), str(checkpoint), device='cpu')
    with pytest.raises(ValueError, match='no annotations'):
        inference_detector(model, image)
    # An annotated image with no person: no masks, no error.
    from mmdet.structures import DetDataSample
    from mmengine.structures import InstanceData
    sample = DetDataSample(metainfo=dict(img_shape=(128, 128), ori_shape=(128, 128), scale_factor=(1.0, 1.0),
                                         annotated=True))
    gt = InstanceData()
    gt.bboxes = torch.zeros(0, 4)
    gt.labels = torch.zeros(0, dtype=torch.long)
    sample.gt_instances = gt
    model.eval()
    with torch.no_grad():
        out = model.predict(torch.rand(1, 3, 128, 128) * 255, [sample])[0].pred_instances
    assert len(out) == 0 and out.masks.shape == (0, 128, 128)


def test_rhis_roi_head_in_a_plain_two_stage_detector_points_to_the_right_class():
    head = MODELS.build(dict(type='RHISRoIHead', preset='rhis_b0_64x48'))
    features = (torch.rand(1, 256, 16, 16), torch.rand(1, 256, 8, 8))   # what TwoStageDetector hands a RoIHead
    with pytest.raises(TypeError, match='RHISTwoStageDetector'):
        head.loss(features, [], [])
    with pytest.raises(TypeError, match='RHISTwoStageDetector'):
        head.predict(features, [], [])


def test_mim_test_show_dir_writes_drawn_images(run_cli, tiny_options, tmp_path, synthetic_root):
    from mmengine.registry import DefaultScope
    with DefaultScope.overwrite_default_scope('mmdet'):
        checkpoint = random_checkpoint(GT_BOXES, tmp_path / 'epoch_1.pth', {'model.roi_head.peopleseg_checkpoint': 'random'})
    mim = Path(sys.executable).with_name('mim')
    run_cli([mim, 'test', 'mmdet', GT_BOXES, '--checkpoint', checkpoint, '--work-dir', tmp_path / 'work',
             '--show-dir', 'shown', '--cfg-options', *tiny_options(), 'test_dataloader.dataset.indices=2'],
            cwd=tmp_path)
    drawn = list((tmp_path / 'work').rglob('shown/*.jpg')) + list((tmp_path / 'work').rglob('shown/*.png'))
    assert len(drawn) == 2, sorted(p.name for p in (tmp_path / 'work').rglob('*'))


def test_gt_box_mode_ranks_masks_by_their_mean_probability(synthetic_root):
    """The one oracle-box protocol: equal box scores, each mask scored by its mean probability."""
    import copy

    from mmengine.dataset import pseudo_collate

    from mmdet.registry import DATASETS
    cfg = Config.fromfile(str(GT_BOXES))
    cfg.model.roi_head.peopleseg_checkpoint = 'random'
    torch.manual_seed(0)
    model = MODELS.build(cfg.model)
    model.init_weights()
    model.roi_head.postprocess = type(model.roi_head.postprocess)(threshold=0.0)   # random weights: claim boxes
    model.eval()
    dataset_cfg = copy.deepcopy(cfg.val_dataloader.dataset)
    dataset_cfg.data_root = f'{synthetic_root}/'
    batch = model.data_preprocessor(pseudo_collate([DATASETS.build(dataset_cfg)[0]]), False)
    with torch.no_grad():
        pred = model.predict(batch['inputs'], batch['data_samples'])[0].pred_instances
    assert len(pred) > 0 and pred.masks.any()
    for score, mask in zip(pred.scores, pred.masks):
        if mask.any():
            assert 0.0 < float(score) < 1.0          # a mean probability, not the box score of 1


def test_an_mmdet_checkpoint_loads_into_load_rhis_with_the_same_masks(frozen_checkpoint, image):
    """The RHIS part of an mmdet checkpoint (preset from its stored config) gives the mmdet model's masks."""
    from mmdet.apis import inference_detector, init_detector

    from rhis_plugin.data import rgb_to_tensor
    from rhis_plugin.models import load_rhis, peopleseg_origin
    from rhis_plugin.postprocess import PostprocessConfig
    cfg = Config.fromfile(str(FROZEN))
    resize = next(i for i, step in enumerate(cfg.test_dataloader.dataset.pipeline) if step['type'] == 'Resize')
    options = {**SMALL, 'model.roi_head.test_cfg.mask_thr_binary': 0.34,     # random heads hover near 1/3
               f'test_dataloader.dataset.pipeline.{resize}.scale': image.shape[:2]}   # no resize: same frame
    model = init_detector(str(FROZEN), str(frozen_checkpoint), device='cpu', cfg_options=options)
    pred = inference_detector(model, image).pred_instances
    rhis = load_rhis(frozen_checkpoint).eval()
    assert rhis.cfg == model.roi_head.rhis.cfg and peopleseg_origin(rhis) == 'random'   # as its config says
    rgb = rgb_to_tensor(np.ascontiguousarray(image[..., ::-1]))[None]
    ours = rhis.predict(rgb, [pred.bboxes], PostprocessConfig(threshold=0.34), scores=[pred.scores])[0].masks
    assert len(pred) > 0 and pred.masks.any()
    assert (ours == pred.masks).float().mean() > 0.999


def test_a_random_unet_stays_random_through_an_mmdet_checkpoint(frozen_checkpoint):
    """The head's origin record travels in the checkpoint (``roi_head.peopleseg_weights``): loading it does not mark
    a random UNet as loaded, through mmdet's loader, load_rhis and the teacher loader alike."""
    from mmdet.apis import init_detector

    from rhis_plugin.mmdet.runner import load_rhis_checkpoint
    from rhis_plugin.models import build_from_config, load_rhis, peopleseg_origin
    from rhis_plugin.models.weights_origin import origin_from_tensor
    state = torch.load(frozen_checkpoint, weights_only=True)['state_dict']
    assert origin_from_tensor(state['roi_head.peopleseg_weights']) == 'random'
    options = {k: v for k, v in SMALL.items() if k != 'model.roi_head.peopleseg_checkpoint'}
    model = init_detector(str(FROZEN), str(frozen_checkpoint), device='cpu', cfg_options=options)
    assert peopleseg_origin(model.roi_head.rhis) == 'random'
    assert peopleseg_origin(load_rhis(frozen_checkpoint)) == 'random'
    teacher = build_from_config(model.roi_head.rhis.cfg)
    load_rhis_checkpoint(teacher, str(frozen_checkpoint))
    assert peopleseg_origin(teacher) == 'random'
