import pytest
import torch

from rhis_plugin.models import PEOPLESEG_ENCODERS, PeopleSegUNet

LIGHT = ['efficientnet_b0', 'mobilenetv3_large_100', 'mobilenetv3_small_075', 'mobilenetv2_100', 'mobilenetv1_100']


@pytest.mark.parametrize('encoder', LIGHT)
def test_encoders_build_run_at_320x180_and_split_into_stages(encoder):
    unet = PeopleSegUNet(encoder, frozen=False)
    assert unet.encoder_name == PEOPLESEG_ENCODERS[encoder]
    images = torch.rand(1, 3, 180, 320)
    logits, features = unet.forward_features(images, levels=(0, 4))
    assert logits.shape == (1, 1, 180, 320)
    assert [f.shape[1] for f in features] == unet.decoder_widths((0, 4)) == [256, 16]
    stages = unet.encoder_stages()
    assert len(stages) >= 4
    encoder_params = {id(p) for p in unet.encoder.parameters()}
    assert {id(p) for stage in stages for p in stage.parameters()} == encoder_params


def test_unknown_encoder_is_an_error():
    with pytest.raises(Exception, match='mobilenet_v9'):
        PeopleSegUNet('mobilenet_v9')
