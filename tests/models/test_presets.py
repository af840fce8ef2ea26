"""Every preset builds and produces the contract's shapes at several image sizes."""
import pytest
import torch

from rhis_plugin.models import RHIS, UpstreamRHIS, build_rhis, list_presets, preset_config
from rhis_plugin.models.baselines import BoxFilledBaseline, FCNMaskBaseline, UNetInBoxBaseline

# (H, W): small, odd / non-multiples of 32, and the 160x120 low-resolution mode.
IMAGE_SIZES = [(120, 160), (97, 131), (64, 64)]


def test_preset_names():
    presets = list_presets()
    for enc in ('b0', 'b1', 'b7'):
        for size in ('64x48', '80x60', '128x96'):
            assert f'rhis_{enc}_{size}' in presets
    assert {'upstream_b0_64x48', 'upstream_b1_80x60'} <= set(list_presets('upstream'))
    assert all(name.startswith('rhis_') for name in list_presets('rhis'))


@pytest.mark.parametrize('preset', list_presets())
def test_shapes_for_every_preset(preset):
    model = build_rhis(preset).eval()
    roi_h, roi_w = preset_config(preset).roi_size
    rois = torch.tensor([[0, 0.1, 0.2, 0.5, 0.9], [1, 0.0, 0.0, 1.0, 1.0], [1, 0.6, 0.1, 0.95, 0.6]])
    for height, width in IMAGE_SIZES:
        with torch.no_grad():
            out = model(torch.rand(2, 3, height, width), rois)
        assert out['masks'].shape == (3, 3, 2 * roi_h, 2 * roi_w)
        assert out['binary_masks'].shape == (2, 1, height, width)
        assert torch.isfinite(out['masks']).all()
        assert ((out['binary_masks'] >= 0) & (out['binary_masks'] <= 1)).all()
    kinds = {'upstream': UpstreamRHIS, 'fcn': FCNMaskBaseline, 'unet': UNetInBoxBaseline, 'box': BoxFilledBaseline}
    assert isinstance(model, kinds.get(preset.split('_')[0], RHIS))


def test_training_mode_returns_aux_outputs():
    model = build_rhis('rhis_b0_64x48').train()
    out = model(torch.rand(1, 3, 96, 96), torch.tensor([[0, 0.1, 0.1, 0.6, 0.9]]))
    assert set(out) == {'masks', 'binary_masks', 'bgfg_logits', 'tnt_logits', 'contour_logits', 'distance',
                        'features'}
    for key in ('bgfg_logits', 'tnt_logits'):
        assert out[key].shape == (1, 2, 128, 96)
    assert out['contour_logits'].shape == out['distance'].shape == (1, 1, 128, 96)


def test_overrides_and_errors():
    model = build_rhis('rhis_b0_64x48', roi_size=(32, 32), aux_heads=False)
    assert model.mask_size == (64, 64) and not hasattr(model.head, 'contour_head')
    with pytest.raises(ValueError, match='Did you mean rhis_b0_64x48'):
        build_rhis('rhis_b0_64x47')
    with pytest.raises(ValueError, match='unknown RHIS option'):
        build_rhis('rhis_b0_64x48', roi_sise=(32, 32))
    with pytest.raises(ValueError, match='roi_size'):
        build_rhis('rhis_b0_64x48', roi_size=(8, 8))


def test_peopleseg_unet_is_frozen():
    model = build_rhis('rhis_b0_64x48').train()
    assert not model.peopleseg.training
    assert not any(p.requires_grad for p in model.peopleseg.parameters())
    assert all(p.requires_grad for p in model.head.parameters())
    out = model(torch.rand(1, 3, 64, 64), torch.tensor([[0, 0.1, 0.1, 0.9, 0.9]]))
    out['masks'].sum().backward()
    assert all(p.grad is None for p in model.peopleseg.parameters())
    assert any(p.grad is not None for p in model.roi_encoder.parameters())


def test_compute_per_roi_is_a_fraction_of_upstream():
    from torch.utils.flop_counter import FlopCounterMode

    def macs_per_roi(preset: str) -> float:
        model = build_rhis(preset).eval()
        images = torch.rand(1, 3, 96, 96)
        with torch.no_grad():
            logits, features, scales = model.segment_people(images)
            boxes = model.roi_boxes(torch.tensor([[0, 0.1, 0.1, 0.6, 0.9]]), images, scales)
            counter = FlopCounterMode(display=False)
            with counter:
                model.forward_rois(images, logits, features, *boxes)
        return counter.get_total_flops() / 2

    ours, upstream = macs_per_roi('rhis_b0_64x48'), macs_per_roi('upstream_b0_64x48')
    assert upstream > 20e9                  # the reference's ~26.5 GMAC (without its auxiliary heads)
    assert ours <= upstream / 5


def test_baselines_give_binary_target_probabilities():
    images, rois = torch.rand(1, 3, 96, 96), torch.tensor([[0, 0.1, 0.1, 0.6, 0.9]])
    fcn = build_rhis('fcn_b0_14x14').eval()
    probs = torch.softmax(fcn(images, rois)['masks'], dim=1)
    assert fcn.mask_size == (28, 28) and probs[:, 2].max() < 1e-6
    filled = torch.softmax(build_rhis('box_filled')(images, rois)['masks'], dim=1)[:, 1]
    assert filled.min() > 0.99
    unet = build_rhis('unet_in_box_b0').eval()
    with torch.no_grad():
        person = unet.peopleseg(images)[0].sigmoid()
        inside = torch.softmax(unet(images, torch.tensor([[0, 0.0, 0.0, 1.0, 1.0]]))['masks'], 1)[:, 1]
    # The whole-image box crops exactly the UNet's person probability (resampled to the mask size).
    expected = torch.nn.functional.interpolate(person, size=unet.mask_size, mode='bilinear', align_corners=False)
    assert (inside - expected[:, 0]).abs().mean() < 0.05
