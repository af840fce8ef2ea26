import json
import subprocess
import sys
from pathlib import Path

import pytest

from rhis_plugin.models.presets import DEFAULT_PRESET

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_ort_only_run_prints_its_table_and_summary(tmp_path):
    """--backends ort_cpu alone (no PyTorch column to count complexity from) prints the table and the default
    preset's summary instead of failing on a missing torch_cpu entry; --rounds keeps every round and the median;
    --table regenerates the README table from the JSON."""
    out = tmp_path / 'speed.json'
    result = subprocess.run([sys.executable, str(ROOT / 'tools/bench_speed.py'), '--backends', 'ort_cpu',
                             'ort_cpu_int8', '--presets', DEFAULT_PRESET, '--rois', '1', '--frame-sizes', '64x64',
                             '--detectors',
                             '--repeats', '1', '--warmup', '0', '--max-seconds', '1', '--rounds', '2',
                             '--out', str(out)],
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    assert DEFAULT_PRESET in result.stdout and 'ort_cpu' in result.stdout
    results = json.loads(out.read_text())
    assert results['summary']['preset'] == DEFAULT_PRESET and results['summary']['backend'] == 'ort_cpu'
    row = results['rhis'][DEFAULT_PRESET]['ort_cpu']
    rounds = [r['64x64']['1'] for r in row['latency_ms_rounds']]
    assert len(rounds) == 2 and min(rounds) <= row['latency_ms']['64x64']['1'] <= max(rounds)
    assert results['rhis'][DEFAULT_PRESET]['ort_cpu_int8']['latency_ms']['64x64']['1'] > 0     # quantised graph
    table = subprocess.run([sys.executable, str(ROOT / 'tools/bench_speed.py'), '--table', str(out)],
                           capture_output=True, text=True, timeout=600)
    assert table.returncode == 0, table.stderr[-3000:]
    assert table.stdout.startswith('| model | frame | ORT CPU ms (1 persons) | ORT CPU int8 ms (1 persons)')
    assert f'| `{DEFAULT_PRESET}` (default) | 64x64 |' in table.stdout


def test_cuda_backends_are_skipped_where_they_cannot_run(load_tool, monkeypatch, capsys):
    """torch_cuda without a GPU, ort_cuda / ort_cuda_fp16 without onnxruntime-gpu's CUDA provider: skipped, said."""
    import onnxruntime
    import torch
    tool = load_tool('bench_speed')
    monkeypatch.setattr(torch.cuda, 'is_available', lambda: False)
    monkeypatch.setattr(onnxruntime, 'get_available_providers', lambda: ['CPUExecutionProvider'])
    assert tool.available_backends(['torch_cpu', 'torch_cuda', 'ort_cuda', 'ort_cpu', 'ort_cuda_fp16']) == [
        'torch_cpu', 'ort_cpu']
    printed = capsys.readouterr().out
    assert 'skipping torch_cuda' in printed and 'skipping ort_cuda_fp16' in printed and 'onnxruntime-gpu' in printed
    providers = ['CUDAExecutionProvider', 'CPUExecutionProvider']
    monkeypatch.setattr(onnxruntime, 'get_available_providers', lambda: providers)
    assert tool.available_backends(['ort_cuda', 'ort_cuda_fp16']) == ['ort_cuda', 'ort_cuda_fp16']
    assert tool.parse_args(['--backends', 'ort_cuda_fp16']).backends == ['ort_cuda_fp16']
    with pytest.raises(SystemExit):
        tool.parse_args(['--backends', 'ort_gpu'])
