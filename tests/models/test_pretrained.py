"""Weights from files: RHIS checkpoints, smp people-seg checkpoints, timm ImageNet weights."""
import pytest
import segmentation_models_pytorch as smp
import timm
import torch

from rhis_plugin.models import build_rhis, load_peopleseg_weights, load_rhis, load_roi_encoder_weights, save_rhis


def test_save_and_load_rhis_round_trip(tmp_path):
    model = build_rhis('rhis_b0_64x48', roi_size=(32, 32)).eval()
    path = save_rhis(model, tmp_path / 'rhis.pth', note='test')
    loaded = load_rhis(path).eval()
    assert loaded.cfg == model.cfg
    images, rois = torch.rand(1, 3, 64, 64), torch.tensor([[0, 0.1, 0.1, 0.8, 0.9]])
    with torch.no_grad():
        assert torch.equal(model(images, rois)['masks'], loaded(images, rois)['masks'])
    without_aux = load_rhis(path, aux_heads=False)
    assert not hasattr(without_aux.head, 'contour_head')


def test_load_rhis_errors(tmp_path):
    with pytest.raises(FileNotFoundError):
        load_rhis(tmp_path / 'missing.pth')
    torch.save({'state_dict': {}}, tmp_path / 'plain.pth')
    with pytest.raises(ValueError, match='not an RHIS checkpoint'):
        load_rhis(tmp_path / 'plain.pth')


def test_peopleseg_checkpoint_from_smp(tmp_path):
    reference = smp.Unet('timm-efficientnet-b0', encoder_weights=None, classes=1)
    # The reference implementation stores the UNet under a 'model.' prefix inside a container dict.
    torch.save({'model_state_dict': {f'model.{k}': v for k, v in reference.state_dict().items()}},
               tmp_path / 'peopleseg.pth')
    model = build_rhis('rhis_b0_64x48')
    load_peopleseg_weights(model.peopleseg, tmp_path / 'peopleseg.pth')
    for key, value in reference.state_dict().items():
        assert torch.equal(model.peopleseg.state_dict()[key], value)
    with pytest.raises(ValueError, match='does not match'):
        load_peopleseg_weights(build_rhis('rhis_b1_64x48').peopleseg, tmp_path / 'peopleseg.pth')
    # Same encoder, another decoder width (the light presets' UNet in the full preset's): a ValueError naming it.
    torch.save(build_rhis('rhislight_lite0_64x48').peopleseg.state_dict(), tmp_path / 'light_unet.pth')
    with pytest.raises(ValueError, match='decoder width.*tensors differ in shape'):
        load_peopleseg_weights(build_rhis('rhis_lite0_64x48').peopleseg, tmp_path / 'light_unet.pth')


def test_roi_encoder_imagenet_weights_from_file(tmp_path):
    imagenet = timm.create_model('efficientnet_b0', pretrained=False)
    torch.save(imagenet.state_dict(), tmp_path / 'efficientnet_b0.pth')
    model = build_rhis('rhis_b0_64x48')
    load_roi_encoder_weights(model.roi_encoder, tmp_path / 'efficientnet_b0.pth')
    stem = model.roi_encoder.body.conv_stem.weight
    assert torch.equal(stem[:, :3], imagenet.conv_stem.weight) and not stem[:, 3].any()
    assert torch.equal(model.roi_encoder.body.blocks[1][0].conv_pw.weight, imagenet.blocks[1][0].conv_pw.weight)
    with pytest.raises(ValueError, match='conv_stem'):
        load_roi_encoder_weights(build_rhis('rhis_b7_64x48').roi_encoder, tmp_path / 'efficientnet_b0.pth')
