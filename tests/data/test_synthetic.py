import json

import numpy as np
import pytest
from PIL import Image
from pycocotools.coco import COCO

from rhis_plugin.data.occlusion import occlusion_by_annotation
from rhis_plugin.data.synthetic import SceneConfig, generate_dataset, make_scene


@pytest.fixture(scope='module')
def dataset(tmp_path_factory):
    out = tmp_path_factory.mktemp('synthetic')
    cfg = SceneConfig(height=96, width=128)
    return out, generate_dataset(out, num_images=40, seed=3, cfg=cfg), cfg


def test_coco_file_loads_and_images_match(dataset):
    out, ann_file, cfg = dataset
    coco = COCO(str(ann_file))
    assert len(coco.getImgIds()) == 40
    assert [c['name'] for c in coco.loadCats(coco.getCatIds())] == ['person']
    assert len(coco.getAnnIds()) >= 40 * cfg.min_persons // 2
    for info in coco.loadImgs(coco.getImgIds()):
        image = Image.open(out / 'images' / info['file_name'])
        assert image.size == (info['width'], info['height']) == (cfg.width, cfg.height)
        assert image.mode == 'RGB'


def test_masks_match_boxes_and_areas(dataset):
    _, ann_file, cfg = dataset
    coco = COCO(str(ann_file))
    for image_id in coco.getImgIds():
        anns = coco.loadAnns(coco.getAnnIds(imgIds=image_id))
        union = np.zeros((cfg.height, cfg.width), dtype=np.int32)
        for ann in anns:
            assert ann['iscrowd'] == 0 and ann['category_id'] == 1
            assert isinstance(ann['segmentation']['counts'], str)   # compressed RLE, JSON-safe
            mask = coco.annToMask(ann).astype(bool)
            ys, xs = np.nonzero(mask)
            assert mask.sum() == ann['area'] >= cfg.min_visible_pixels
            assert ann['bbox'] == [xs.min(), ys.min(), xs.max() - xs.min() + 1, ys.max() - ys.min() + 1]
            union += mask
        assert union.max() <= 1, 'visible instance masks must not overlap'


def test_overlaps_are_common(dataset):
    _, ann_file, _ = dataset
    fractions = list(occlusion_by_annotation(COCO(str(ann_file))).values())
    assert np.mean(np.array(fractions) > 0) >= 0.3


def test_deterministic_per_seed_and_index(tmp_path):
    cfg = SceneConfig(height=64, width=64)
    a = generate_dataset(tmp_path / 'a', 3, seed=7, cfg=cfg, image_format='png')
    b = generate_dataset(tmp_path / 'b', 5, seed=7, cfg=cfg, image_format='png')
    c = generate_dataset(tmp_path / 'c', 3, seed=8, cfg=cfg, image_format='png')
    anns_a, anns_b, anns_c = (json.loads(p.read_text())['annotations'] for p in (a, b, c))
    first_three_b = [x for x in anns_b if x['image_id'] <= 3]
    assert anns_a == first_three_b          # scene i depends on (seed, i) only
    assert anns_a != anns_c
    for name in ('synthetic_000000.png', 'synthetic_000002.png'):
        assert np.array_equal(np.asarray(Image.open(tmp_path / 'a/images' / name)),
                              np.asarray(Image.open(tmp_path / 'b/images' / name)))


def test_scene_pixels_belong_to_masks():
    # Person pixels differ from the background render; every mask pixel lies inside the image.
    scene = make_scene(np.random.default_rng(0), SceneConfig(height=80, width=96, min_persons=3, max_persons=3))
    assert scene.image.shape == (80, 96, 3) and scene.image.dtype == np.uint8
    assert 1 <= len(scene.masks) <= 3
    assert all(m.shape == (80, 96) and m.dtype == bool and m.any() for m in scene.masks)


@pytest.mark.parametrize('kwargs, message', [
    (dict(height=16), 'at least 32x32'),
    (dict(min_persons=4, max_persons=2), 'min_persons'),
    (dict(overlap_prob=1.5), 'overlap_prob'),
])
def test_bad_config_raises(kwargs, message):
    with pytest.raises(ValueError, match=message):
        SceneConfig(**kwargs)


def test_bad_arguments_raise(tmp_path):
    with pytest.raises(ValueError, match='num_images'):
        generate_dataset(tmp_path, 0)
    with pytest.raises(ValueError, match='image_format'):
        generate_dataset(tmp_path, 1, image_format='gif')
