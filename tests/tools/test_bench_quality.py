"""bench_quality's frozen UNets: one set of weights for contenders that share a UNet architecture, one UNet trained
alike per architecture when they differ (the light preset's narrower decoder), never one file forced on both."""
import json
from pathlib import Path

import pytest


def test_one_unet_per_unet_architecture(tmp_path, load_tool):
    from rhis_plugin.data import SceneConfig, generate_dataset
    generate_dataset(tmp_path / 'data', 2, 0, SceneConfig(height=64, width=64))
    tool = load_tool('bench_quality')
    contenders = ['rhis_lite0_64x48', 'rhis_lite0_64x48_copy_paste', 'rhislight_lite0_64x48']
    args = tool.parse_args(['--train', str(tmp_path / 'data'), '--val', str(tmp_path / 'data'), '--peopleseg', 'train',
                            '--peopleseg-iters', '1', '--batch-size', '1', '--device', 'cpu'])
    unets = tool.peopleseg_weights(args, contenders, tmp_path / 'out')
    assert unets['rhis_lite0_64x48'] == unets['rhis_lite0_64x48_copy_paste'] != unets['rhislight_lite0_64x48']
    assert all(Path(path).is_file() for path in unets.values())
    args.peopleseg = 'starter'
    with pytest.raises(SystemExit, match='--peopleseg train'):
        tool.peopleseg_weights(args, contenders, tmp_path / 'out')
    # The starter's UNet serves the contenders it fits (its preset's decoder widths), and no others.
    with pytest.raises(SystemExit, match="the starter's UNet .* does not fit rhis_lite0_64x48"):
        tool.peopleseg_weights(args, contenders[:2], tmp_path / 'out')
    assert tool.peopleseg_weights(args, ['rhislightres_lite0_64x48'], tmp_path / 'out') == {
        'rhislightres_lite0_64x48': 'starter'}
    assert tool.preset_of('rhis_lite0_64x48_copy_paste') == 'rhis_lite0_64x48'


def test_model_options_change_every_contender_and_guard_earlier_runs(tmp_path, load_tool):
    """--model-options: RHISConfig fields for every contender (a preset's variant, one change), checked when parsed;
    runs made with other options in the same --out-dir are not mixed into the summary."""
    tool = load_tool('bench_quality')
    common = ['--train', 'a', '--val', 'b', '--working-size', '288']
    args = tool.parse_args([*common, '--model-options', 'unet_decoder_channels=128,64,32,32,16'])
    assert tool.model_options(args) == {'unet_decoder_channels': (128, 64, 32, 32, 16), 'working_size': 288}
    assert tool.unet_architecture('rhislight_lite0_64x48', args) == ('tu-tf_efficientnet_lite0', (128, 64, 32, 32, 16),
                                                                      288)
    for bad in ('unet_decoder_channels', 'no_such_option=1', 'unet_decoder_channels=8'):
        with pytest.raises(SystemExit):
            tool.parse_args([*common, '--model-options', bad])
    run = tmp_path / 'rhislight_lite0_64x48_seed0.json'
    run.write_text(json.dumps({'complete': True, 'model_options': {'working_size': 288}}))
    with pytest.raises(SystemExit, match='use another --out-dir'):
        tool.previous_run(run, args)
    assert tool.previous_run(run, tool.parse_args(common))['complete']
    run.write_text(json.dumps({'complete': True}))           # a record from before the option: taken as it is
    assert tool.previous_run(run, args)['complete']


def test_teacher_is_checked_recorded_and_guards_earlier_runs(tmp_path, load_tool):
    """--teacher: a file that must exist, recorded in every run; runs without it (or with another) are not mixed."""
    tool = load_tool('bench_quality')
    common = ['--train', 'a', '--val', 'b']
    with pytest.raises(SystemExit):
        tool.parse_args([*common, '--teacher', str(tmp_path / 'missing.pth')])
    teacher = tmp_path / 'teacher.pth'
    teacher.write_bytes(b'')
    with pytest.raises(SystemExit):
        tool.parse_args([*common, '--teacher', str(teacher), '--kd-weight', '1.5'])
    args = tool.parse_args([*common, '--teacher', str(teacher), '--kd-temperature', '2'])
    assert tool.distillation_record(args) == {'teacher': str(teacher), 'weight': 0.5, 'temperature': 2.0}
    run = tmp_path / 'rhislight_lite0_64x48_seed0.json'
    run.write_text(json.dumps({'complete': True, 'model_options': {}, 'distillation': None}))
    with pytest.raises(SystemExit, match='distillation'):
        tool.previous_run(run, args)
    assert tool.previous_run(run, tool.parse_args(common))['complete']
