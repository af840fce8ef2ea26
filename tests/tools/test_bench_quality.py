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


def test_jitter_and_detector_are_recorded_guard_earlier_runs_and_summarise(tmp_path, load_tool):
    """--jitter: the training ROIs' box jitter, recorded in every run (records from before the option used
    TrainConfig's); --detector: recorded, and its scores summarised per curve point like the GT-box ones."""
    tool = load_tool('bench_quality')
    common = ['--train', 'a', '--val', 'b']
    with pytest.raises(SystemExit):
        tool.parse_args([*common, '--jitter', '-0.1', '0.1'])
    args = tool.parse_args([*common, '--jitter', '0.15', '0.1', '--detector', 'yolox_nano.onnx', '--conf', '0.3'])
    assert tool.jitter_record(args) == {'scale': 0.15, 'shift': 0.1}
    assert tool.detector_record(args) == {'detector': 'yolox_nano.onnx', 'conf': 0.3}
    assert tool.jitter_record(tool.parse_args(common)) == {'scale': 0.1, 'shift': 0.06}
    run = tmp_path / 'rhislight_lite0_64x48_seed0.json'
    run.write_text(json.dumps({'complete': True, 'model_options': {}, 'distillation': None}))
    with pytest.raises(SystemExit, match='box jitter'):
        tool.previous_run(run, args)
    assert tool.previous_run(run, tool.parse_args(common))['complete']
    with pytest.raises(SystemExit, match='detector'):
        tool.previous_run(run, tool.parse_args([*common, '--detector', 'yolox_nano.onnx']))
    with pytest.raises(SystemExit, match='--detector: detector ONNX file not found'):    # before anything trains
        tool.main([*common, '--detector', str(tmp_path / 'missing.onnx'), '--out-dir', str(tmp_path / 'out')])
    assert not (tmp_path / 'out').exists()

    def record(seed, ap):
        gt = {'segm_AP': ap, 'segm_AP50': ap, 'segm_AP75': ap, 'segm_AP_occluded': ap, 'target_iou': 0.5,
              'unet_iou': 0.5, 'instances': 3, 'occluded_instances': 1}
        boxes = {'bbox_AP': 0.5, 'segm_AP': ap / 2, 'mask_box_ratio': ap, 'matched_mask_iou': ap,
                 'matched_mask_iou_gt_box': None}
        return {'seed': seed, 'curve': {'600': {'v': gt}}, 'detector_curve': {'600': {'v': boxes}}}

    summary = tool.summarise({'c': [record(0, 0.2), record(1, 0.4)]}, {'c': 1.0}, {'c': {}})
    cell = summary['c']['detector_curve']['600']['v']
    assert cell['segm_AP'] == pytest.approx(0.15) and cell['mask_box_ratio'] == pytest.approx(0.3)
    assert cell['bbox_AP_sd'] == 0 and 'matched_mask_iou_gt_box' not in cell
    gt_only = {key: value for key, value in record(1, 0.4).items() if key != 'detector_curve'}
    assert 'detector_curve' not in tool.summarise({'c': [record(0, 0.2), gt_only]}, {'c': 1.0}, {'c': {}})['c']
