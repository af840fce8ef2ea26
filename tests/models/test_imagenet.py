"""ImageNet weights installed as packages (EfficientNet-Lite0/1/2): classification, UNet and ROI encoder loading."""
from pathlib import Path

import numpy as np
import pytest
import timm
import torch
import torch.nn.functional as F

from rhis_plugin.models import IMAGENET_WEIGHTS, build_rhis, load_imagenet_weights
from rhis_plugin.models.imagenet import encoder_normalization

# ImageNet classes of road vehicles that a photo of a bus may fairly be called.
VEHICLES = {407, 436, 468, 511, 555, 569, 575, 627, 654, 656, 675, 705, 717, 734, 751, 757, 779, 803, 817, 829, 864,
            867, 874}


def installed() -> list[str]:
    import importlib.util
    return [name for name, (package, _, _) in IMAGENET_WEIGHTS.items() if importlib.util.find_spec(package)]


def bus_image(size: int) -> torch.Tensor:
    import ultralytics
    from rhis_plugin.data import read_rgb_image, rgb_to_tensor
    image = rgb_to_tensor(read_rgb_image(Path(ultralytics.__file__).parent / 'assets' / 'bus.jpg'))[None]
    return F.interpolate(image, size=(size, size), mode='bilinear', antialias=True)


@pytest.mark.parametrize('name', installed())
def test_each_checkpoint_classifies_the_bus(name):
    model = load_imagenet_weights(timm.create_model(IMAGENET_WEIGHTS[name][2]), name).eval()
    mean, std = (torch.tensor(v).view(1, 3, 1, 1) for v in encoder_normalization(IMAGENET_WEIGHTS[name][2]))
    size = model.pretrained_cfg['input_size'][-1]
    with torch.no_grad():
        probs = model((bus_image(size) - mean) / std).softmax(1)[0]
    assert int(probs.argmax()) in VEHICLES and float(probs.max()) > 0.3, probs.topk(3)
    headless = load_imagenet_weights(timm.create_model(IMAGENET_WEIGHTS[name][2], num_classes=0), name)
    assert torch.equal(headless.conv_stem.weight, model.conv_stem.weight)


@pytest.mark.skipif('efficientnet_lite0' not in installed(), reason="needs the 'pretrained' extra")
def test_unet_and_roi_encoder_loading_changes_every_encoder_tensor():
    random = build_rhis('rhis_lite0_64x48', peopleseg_weights='random')
    pretrained = build_rhis('rhis_lite0_64x48', pretrained=True, peopleseg_weights='random')
    for module in ('peopleseg.encoder', 'roi_encoder'):
        before = {k: v for k, v in random.state_dict().items() if k.startswith(module) and v.is_floating_point()}
        after = pretrained.state_dict()
        unchanged = [k for k, v in before.items() if torch.equal(v, after[k]) and 'running_var' not in k]
        assert before and not unchanged, unchanged[:5]
    stem = pretrained.roi_encoder.body.conv_stem.weight
    assert not stem[:, 3].any() and stem[:, :3].abs().sum() > 0          # RGB copied, person channel zero
    decoder = {k: v for k, v in random.state_dict().items() if k.startswith('peopleseg.decoder')}
    assert all(v.shape == pretrained.state_dict()[k].shape for k, v in decoder.items())


@pytest.mark.skipif('efficientnet_lite0' not in installed(), reason="needs the 'pretrained' extra")
def test_wrong_sizes_and_encoders_are_clear_errors():
    with pytest.raises(ValueError, match='another EfficientNet-Lite size'):
        load_imagenet_weights(timm.create_model('tf_efficientnet_lite1'), 'efficientnet_lite0')
    with pytest.raises(ValueError, match='another EfficientNet-Lite size'):
        load_imagenet_weights(timm.create_model('tf_efficientnet_lite0'), 'efficientnet_lite1')
    with pytest.raises(ValueError, match='lite'):
        build_rhis('rhis_b0_64x48', pretrained=True)
    with pytest.raises(TypeError, match='tf_efficientnet_lite'):
        load_imagenet_weights(torch.nn.Conv2d(3, 3, 1), 'efficientnet_lite0')
    with pytest.raises(ValueError, match='available'):
        load_imagenet_weights(timm.create_model('tf_efficientnet_lite0'), 'efficientnet_lite9')


def test_normalisation_is_per_encoder_and_old_checkpoints_get_imagenet_statistics(tmp_path):
    lite = build_rhis('rhis_lite0_64x48', peopleseg_weights='random')
    assert lite.cfg.unet_mean == lite.cfg.roi_std == (0.5, 0.5, 0.5)
    assert torch.allclose(lite.peopleseg.mean.flatten(), torch.full((3,), 0.5))
    from rhis_plugin.models import load_rhis, save_rhis
    old = build_rhis('rhis_b0_64x48', roi_size=(32, 32))
    payload = {'rhis_config': {k: v for k, v in old.cfg.to_dict().items() if 'mean' not in k and 'std' not in k},
               'state_dict': old.state_dict(), 'meta': {}}
    torch.save(payload, tmp_path / 'old.pth')
    loaded = load_rhis(tmp_path / 'old.pth')
    assert loaded.cfg.unet_mean == (0.485, 0.456, 0.406) and loaded.cfg.roi_std == (0.229, 0.224, 0.225)
    assert np.allclose(load_rhis(save_rhis(lite, tmp_path / 'lite.pth')).cfg.roi_mean, 0.5)
