"""bench_quality's frozen UNets: one set of weights for contenders that share a UNet architecture, one UNet trained
alike per architecture when they differ (the light preset's narrower decoder), never one file forced on both."""
import argparse
from pathlib import Path

import pytest


def test_one_unet_per_unet_architecture(tmp_path, load_tool):
    from rhis_plugin.data import SceneConfig, generate_dataset
    generate_dataset(tmp_path / 'data', 2, 0, SceneConfig(height=64, width=64))
    tool = load_tool('bench_quality')
    contenders = ['rhis_lite0_64x48', 'rhis_lite0_64x48_copy_paste', 'rhislight_lite0_64x48']
    args = argparse.Namespace(peopleseg='train', peopleseg_iters=1, working_size=None, train=[str(tmp_path / 'data')],
                              sources=None, batch_size=1, device='cpu')
    unets = tool.peopleseg_weights(args, contenders, tmp_path / 'out')
    assert unets['rhis_lite0_64x48'] == unets['rhis_lite0_64x48_copy_paste'] != unets['rhislight_lite0_64x48']
    assert all(Path(path).is_file() for path in unets.values())
    args.peopleseg = 'starter'
    with pytest.raises(SystemExit, match='--peopleseg train'):
        tool.peopleseg_weights(args, contenders, tmp_path / 'out')
    assert tool.preset_of('rhis_lite0_64x48_copy_paste') == 'rhis_lite0_64x48'
