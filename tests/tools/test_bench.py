"""The benchmark tools run end to end on a tiny synthetic set and produce every column."""
import json

import pytest

from rhis_plugin.data.synthetic import SceneConfig, generate_dataset


@pytest.fixture(scope='module')
def data(tmp_path_factory):
    root = tmp_path_factory.mktemp('bench_data')
    cfg = SceneConfig(height=80, width=80, min_persons=2, max_persons=3)
    generate_dataset(root / 'train', 4, seed=0, cfg=cfg)
    generate_dataset(root / 'val', 3, seed=1, cfg=cfg)
    return root


@pytest.mark.slow
def test_bench_quality_scores_every_contender(data, tmp_path, capsys, load_tool):
    tool = load_tool('bench_quality')
    out, plot = tmp_path / 'quality.json', tmp_path / 'ap.png'
    tool.main(['--train', str(data / 'train'), '--val', str(data / 'val'), '--iters', '1', '--peopleseg-iters', '1',
               '--image-size', '64', '--batch-size', '1', '--max-rois', '1', '--latency-size', '64', '64',
               '--work-dir', str(tmp_path / 'work'), '--out', str(out), '--plot', str(plot)])
    results = json.loads(out.read_text())
    assert set(results['contenders']) == set(tool.CONTENDERS)
    columns = {'iters', 'train_seconds', 'segm_AP', 'segm_AP50', 'segm_AP75', 'segm_AP_occluded', 'target_iou',
               'latency_ms_10_rois', 'occluded_instances'}
    for name, row in results['contenders'].items():
        assert columns <= set(row), name
        assert row['iters'] == (0 if name in ('unet_in_box_b0', 'box_filled') else 1)
        assert 0 <= row['target_iou'] <= 1 and row['latency_ms_10_rois'] > 0
    assert set(results['peopleseg']) == {'timm-efficientnet-b0', 'timm-efficientnet-b1'}
    assert (tmp_path / 'work' / 'peopleseg_timm-efficientnet-b0.pth').is_file()
    assert plot.stat().st_size > 1000
    printed = capsys.readouterr().out
    assert 'fcn_b0_14x14' in printed and 'AP occl.' in printed
    with pytest.raises(SystemExit):
        tool.main(['--train', str(data / 'train'), '--val', str(data / 'val'), '--pretrained', 'efficientnet_b0'])


@pytest.mark.slow
def test_bench_speed_reports_every_column_and_ratio(tmp_path, capsys, load_tool):
    tool = load_tool('bench_speed')
    out, plot = tmp_path / 'speed.json', tmp_path / 'latency.png'
    results = tool.main(['--presets', 'rhis_b0_64x48', '--rois', '1', '3', '--image-size', '64', '96',
                         '--warmup', '0', '--repeats', '1', '--out', str(out), '--plot', str(plot)])
    assert json.loads(out.read_text()) == results
    assert set(results['presets']) == {'rhis_b0_64x48', 'upstream_b0_64x48'}
    ours = results['presets']['rhis_b0_64x48']
    for backend in ('torch_cpu', 'ort_cpu'):
        assert set(ours[backend]['latency_ms']) == {'1', '3'}
        assert ours[backend]['peak_rss_mb'] > 0
    assert ours['torch_cpu']['macs_per_roi'] < ours['torch_cpu']['macs_per_image'] * 10
    assert {'macs_per_roi', 'params', 'speedup_torch_cpu_1', 'speedup_ort_cpu_3'} <= set(ours['ratios'])
    assert results['presets']['upstream_b0_64x48']['ratios']['macs_per_roi'] == 1.0
    assert ours['ratios']['macs_per_roi'] < 0.2
    assert plot.stat().st_size > 1000
    assert 'speed-up over upstream_b0_64x48' in capsys.readouterr().out


@pytest.mark.slow
def test_bench_peopleseg_trains_scores_and_reloads(data, tmp_path, capsys, load_tool, mmdet_scope):
    tool = load_tool('bench_peopleseg')
    common = ['--data-root', str(data), '--encoders', 'mobilenetv3_small', '--image-size', '64', '64',
              '--batch-size', '2', '--guided', '2', '0.01']
    trained = tool.main([*common, '--iters', '2', '--work-dir', str(tmp_path / 'a'), '--out', str(tmp_path / 'a.json')])
    row = trained['encoders']['mobilenetv3_small']
    assert set(row['plain']) == set(row['guided']) == set(tool.METRICS)
    assert row['params'] > 0 and row['gmacs'] > 0 and row['latency_ms'] > 0 and row['guided_filter_ms'] > 0
    assert row['plain'] != row['guided']                  # the filter changed the masks
    checkpoint = tmp_path / 'a' / 'mobilenetv3_small' / 'iter_2.pth'
    reloaded = tool.main([*common, '--checkpoint', f'mobilenetv3_small={checkpoint}',
                          '--work-dir', str(tmp_path / 'b')])
    assert reloaded['encoders']['mobilenetv3_small']['plain'] == row['plain']
    assert 'IoU+GF' in capsys.readouterr().out
