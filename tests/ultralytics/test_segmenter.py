"""The predict callback: masks at the original size, in box order, plotted and saved by Ultralytics."""
import numpy as np
import pytest
import torch
from ultralytics import RTDETR, YOLO
from ultralytics.engine.results import Results
from ultralytics.utils import ASSETS

from rhis_plugin.models import build_rhis
from rhis_plugin.ultralytics import RHISSegmenter, SegmenterOptions, add_rhis, person_class_ids


@pytest.fixture(scope='module')
def rhis():
    return build_rhis('rhis_b0_64x48', aux_heads=False)


def injected_results(height=120, width=160):
    image = np.random.default_rng(0).integers(0, 255, (height, width, 3), dtype=np.uint8)
    boxes = torch.tensor([[10.0, 5.0, 60.0, 110.0, 0.9, 0.0],     # person
                          [70.0, 20.0, 150.0, 100.0, 0.8, 2.0],    # car
                          [90.0, 10.0, 140.0, 118.0, 0.2, 0.0]])   # person with low confidence
    return Results(image, path='x.jpg', names={0: 'person', 1: 'bicycle', 2: 'car'}, boxes=boxes)


def test_masks_follow_boxes_and_classes(rhis):
    result = injected_results()
    RHISSegmenter(rhis, SegmenterOptions(classes=[0], conf=0.5, threshold=0.0))([result])
    masks = result.masks.data
    assert masks.shape == (3, 120, 160)
    assert masks[0].any() and not masks[1].any() and not masks[2].any()   # car and low-confidence person: empty
    ys, xs = torch.nonzero(masks[0], as_tuple=True)
    assert xs.min() >= 10 and xs.max() < 60 and ys.min() >= 5 and ys.max() < 110


def test_binary_mode_and_images_of_different_sizes(rhis):
    small, large = injected_results(90, 100), injected_results(120, 160)
    RHISSegmenter(rhis, SegmenterOptions(classes=None, binary=True, threshold=0.0))([small, large])
    assert small.masks.data.shape == (3, 90, 100) and large.masks.data.shape == (3, 120, 160)
    assert not large.masks.data[0, :, 61:].any()       # the person mask is cut to the box


def test_person_class_ids():
    assert person_class_ids({0: 'person', 1: 'car'}) == [0]
    assert person_class_ids(['car', 'Person']) == [1]
    assert person_class_ids({0: 'car'}) is None


@pytest.mark.parametrize('model_cls, cfg', [(YOLO, 'yolo11n.yaml'), (RTDETR, 'rtdetr-l.yaml')])
def test_predict_with_callback_plots_and_saves(model_cls, cfg, tmp_path):
    model = model_cls(cfg)                      # random init from the yaml: no download
    add_rhis(model, classes=None, threshold=0.0)
    results = model.predict(ASSETS / 'bus.jpg', conf=0.0, max_det=4, imgsz=320, verbose=False)
    result = results[0]
    assert len(result.boxes) > 0
    assert result.masks.data.shape == (len(result.boxes), *result.orig_shape)
    for mask, box in zip(result.masks.data, result.boxes.xyxy):   # mask i lies in box i
        ys, xs = torch.nonzero(mask, as_tuple=True)
        if len(xs):
            assert xs.min() >= box[0].floor() - 1 and xs.max() <= box[2].ceil() + 1
    assert result.plot().shape == (*result.orig_shape, 3)
    result.save(str(tmp_path / 'out.jpg'))
    result.save_txt(str(tmp_path / 'out.txt'))
    assert (tmp_path / 'out.jpg').stat().st_size > 0
    lines = (tmp_path / 'out.txt').read_text().splitlines()
    assert lines and all(len(line.split()) > 5 for line in lines)       # class + polygon
