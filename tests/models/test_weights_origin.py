"""No silent randomness: a frozen people-seg UNet nobody loaded or trained warns, and user-facing loading refuses it."""
import warnings

import pytest
import torch

from rhis_plugin.models import (RandomWeightsError, RandomWeightsWarning, build_rhis, load_peopleseg_weights,
                                load_rhis, peopleseg_origin, rhis_from_weights, save_rhis)
from rhis_plugin.weights import STARTER_PRESET

IMAGES, ROIS = torch.rand(1, 3, 64, 64), torch.tensor([[0, 0.1, 0.1, 0.8, 0.9]])


def run(model) -> list:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter('always')
        model.eval()(IMAGES, ROIS)
        model(IMAGES, ROIS)
    return [w for w in caught if issubclass(w.category, RandomWeightsWarning)]


def test_a_frozen_random_unet_warns_once_naming_the_fix():
    caught = run(build_rhis('rhis_b0_64x48', roi_size=(32, 32)))
    assert len(caught) == 1 and 'peopleseg_checkpoint' in str(caught[0].message)
    assert not run(build_rhis('rhis_b0_64x48', roi_size=(32, 32), peopleseg_weights='random'))   # asked for
    assert not run(build_rhis('rhis_b0_64x48', roi_size=(32, 32), freeze_unet=False))          # trained with it


def test_origin_travels_through_checkpoints(tmp_path):
    donor = build_rhis('rhis_b0_64x48', roi_size=(32, 32))
    torch.save(donor.peopleseg.state_dict(), tmp_path / 'unet.pth')
    model = build_rhis('rhis_b0_64x48', roi_size=(32, 32), peopleseg_weights=tmp_path / 'unet.pth')
    assert peopleseg_origin(model) == str(tmp_path / 'unet.pth') and not run(model)
    assert peopleseg_origin(load_rhis(save_rhis(model, tmp_path / 'a.pth'))) == 'unet.pth'   # its name, no folders
    random = save_rhis(build_rhis('rhis_b0_64x48', roi_size=(32, 32)), tmp_path / 'random.pth')
    assert peopleseg_origin(load_rhis(random)) is None
    # Written before origins were recorded: counts as loaded.
    payload = torch.load(random, weights_only=True)
    payload['meta'].pop('peopleseg_weights')
    torch.save(payload, tmp_path / 'old.pth')
    assert peopleseg_origin(load_rhis(tmp_path / 'old.pth')) == str(tmp_path / 'old.pth')


def test_user_facing_loading_refuses_a_random_unet_unless_asked(tmp_path):
    path = save_rhis(build_rhis('rhis_b0_64x48', roi_size=(32, 32)), tmp_path / 'random.pth')
    with pytest.raises(RandomWeightsError, match='allow_random'):
        rhis_from_weights(path)
    assert rhis_from_weights(path, allow_random=True).cfg.roi_size == (32, 32)
    assert peopleseg_origin(rhis_from_weights('random', 'rhis_b0_64x48')) == 'random'
    starter = rhis_from_weights()                     # the bundled starter model
    assert starter.cfg.unet_encoder == 'tu-tf_efficientnet_lite0' and peopleseg_origin(starter)
    unet = build_rhis(STARTER_PRESET, peopleseg_weights='random').peopleseg
    load_peopleseg_weights(unet, 'starter')
    assert torch.equal(unet.state_dict()['segmentation_head.0.weight'],
                       starter.peopleseg.state_dict()['segmentation_head.0.weight'])


def test_people_seg_weights_given_with_a_random_unet_checkpoint_are_loaded_before_the_refusal(tmp_path):
    """rhis_peopleseg= / peopleseg= fixes a checkpoint whose UNet is random: every user-facing path (add_rhis,
    rhis-yolo val and export) loads it before deciding to refuse."""
    path = save_rhis(build_rhis(STARTER_PRESET), tmp_path / 'random_unet.pth')
    with pytest.raises(RandomWeightsError):
        rhis_from_weights(path)
    model = rhis_from_weights(path, peopleseg='starter')
    assert peopleseg_origin(model) and peopleseg_origin(model) != 'random'
