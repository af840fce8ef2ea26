"""The people-seg UNet runs at the working size whatever the frame size; ROIs map between the two frames."""
import pytest
import torch

from rhis_plugin.models import build_rhis, to_working_size, working_shape, working_to_frame


@pytest.fixture(scope='module')
def model():
    return build_rhis('rhis_b0_64x48', working_size=64, aux_heads=False).eval()


def test_working_shape_keeps_the_aspect_ratio_and_never_enlarges():
    assert working_shape(1080, 1920, 320) == (180, 320)
    assert working_shape(480, 640, 320) == (240, 320)
    assert working_shape(100, 60, 320) == (100, 60)
    assert working_shape(480, 640, None) == (480, 640)
    traced = working_shape(torch.tensor(1080), torch.tensor(1920), 320)
    assert [int(v) for v in traced] == [180, 320]


def test_the_unet_sees_the_working_size_for_any_frame(model):
    seen = []
    handle = model.peopleseg.register_forward_pre_hook(lambda module, args: seen.append(tuple(args[0].shape[-2:])))
    try:
        with torch.no_grad():
            for size in [(96, 128), (270, 480), (64, 48)]:
                out = model(torch.rand(1, 3, *size), torch.tensor([[0, 0.1, 0.1, 0.6, 0.9]]))
                assert out['masks'].shape == (1, 3, 128, 96)
    finally:
        handle.remove()
    assert seen == [(48, 64), (36, 64), (64, 48)]
    assert out['binary_masks'].shape == (1, 1, 64, 48)


def test_a_padded_batch_is_letterboxed_image_by_image(model):
    """Each image of a padded batch gives the same masks as alone: the padding never reaches the UNet."""
    first, second = torch.rand(3, 80, 120), torch.rand(3, 120, 90)
    batch = torch.zeros(2, 3, 120, 120)
    batch[0, :, :80, :120], batch[1, :, :120, :90] = first, second
    rois = torch.tensor([[0, 0.1, 0.05, 0.5, 0.6], [1, 0.2, 0.1, 0.7, 0.9]])   # normalised to the padded 120x120
    with torch.no_grad():
        padded = model(batch, rois, image_sizes=[(80, 120), (120, 90)])['masks']
        alone = [model(first[None], torch.tensor([[0, 0.1, 0.05 * 120 / 80, 0.5, 0.6 * 120 / 80]]))['masks'],
                 model(second[None], torch.tensor([[0, 0.2 * 120 / 90, 0.1, 0.7 * 120 / 90, 0.9]]))['masks']]
    assert torch.allclose(padded, torch.cat(alone), atol=1e-4)
    working, scales = to_working_size(batch, 64, [(80, 120), (120, 90)])
    assert working.shape == (2, 3, 64, 64) and torch.equal(working[0, :, 43:], working[0, :, 42:43].expand(3, 21, 64))
    assert torch.allclose(scales, torch.tensor([[64 / 120, 43 / 80], [48 / 90, 64 / 120]]))


def test_person_probability_comes_back_at_the_frame_size(model):
    images = torch.rand(1, 3, 90, 160)
    probs = model.person_probability(images)
    assert probs.shape == (1, 1, 90, 160)
    with torch.no_grad():
        working = model(images, torch.zeros(0, 5))['binary_masks']
    assert torch.allclose(working_to_frame(working, (90, 160), 64), probs)
    with pytest.raises(ValueError, match='working frame'):
        working_to_frame(working[..., :10, :10], (90, 160), 64)


def test_predict_rois_pastes_on_demand_like_predict(model):
    images = torch.rand(1, 3, 96, 128)
    boxes, scores = [torch.tensor([[10.0, 5.0, 70.0, 90.0], [40.0, 10.0, 120.0, 95.0]])], [torch.tensor([0.4, 0.9])]
    roi = model.predict_rois(images, boxes, scores)[0]
    assert roi.probs.shape == (2, 128, 96) and roi.image_size == (96, 128)
    assert torch.equal(roi.paste().masks, model.predict(images, boxes, scores=scores)[0].masks)


def test_working_size_is_validated():
    with pytest.raises(ValueError, match='working_size'):
        build_rhis('rhis_b0_64x48', working_size=16)
