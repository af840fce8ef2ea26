"""Mask quality: a box with no person in it gets a low score, a box on a person a high one (the starter model on a
real photo), on the PyTorch and the ONNX backend alike; rhis predict writes score = detector score x quality."""
import numpy as np
import pytest
import torch
from PIL import Image

from rhis_plugin.deploy import RHISBackend
from rhis_plugin.postprocess import mask_quality

# Two of the people in Ultralytics' bus.jpg (810x1080), as a detector boxes them.
BUS_PEOPLE = np.array([[50, 400, 245, 905], [670, 380, 810, 880]], np.float32)


def bus() -> np.ndarray:
    from rhis_plugin.demo import demo_images
    path = next(p for p in demo_images() if p.name == 'bus.jpg')
    return np.array(Image.open(path).convert('RGB'))


def test_quality_is_confidence_times_person_evidence():
    target = torch.tensor([[[0.9, 0.9], [0.2, 0.1]], [[0.0, 0.1], [0.2, 0.3]]])
    person = torch.tensor([[[1.0, 0.5], [0.0, 0.0]], [[1.0, 1.0], [1.0, 1.0]]])
    quality = mask_quality(target, person)
    assert quality[0] == pytest.approx(0.9 * 0.75) and quality[1] == 0.0      # an empty mask is worth nothing


@pytest.fixture(scope='module')
def starter():
    return RHISBackend('starter')


def test_a_box_on_background_scores_low_and_a_person_high(starter):
    image = bus()
    height, width = image.shape[:2]
    flat = np.full_like(image, 128)                   # no person anywhere: pure background
    background = starter.roi_masks(flat, BUS_PEOPLE, np.ones(2, np.float32))
    people = starter.roi_masks(image, BUS_PEOPLE, np.ones(2, np.float32))
    assert background.quality.max() < 0.1, background.quality
    # The man cut by the right border (box 2) is one the starter's UNet sees only in part (his quality is about 0.16):
    # the whole person of box 1 is the one that must score high.
    assert people.quality[0] > 0.4 and people.quality[0] > 10 * background.quality[0], people.quality
    pasted = people.paste()
    assert torch.equal(pasted.quality, people.quality) and pasted.masks.shape == (2, height, width)


def test_onnx_backend_measures_the_same_quality(starter, tmp_path):
    pytest.importorskip('onnxruntime')
    from rhis_plugin.deploy import export_onnx
    path = export_onnx(starter.model, tmp_path / 'starter.onnx')
    onnx_backend = RHISBackend(path)
    image = bus()
    torch_quality = starter.roi_masks(image, BUS_PEOPLE).quality
    onnx_quality = onnx_backend.roi_masks(image, BUS_PEOPLE).quality
    assert torch.allclose(torch_quality, onnx_quality, atol=0.03)
