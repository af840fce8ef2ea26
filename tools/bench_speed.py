#!/usr/bin/env python
"""Speed and memory of RHIS presets side by side with the reference architecture, measured in one run.

    python tools/bench_speed.py --out speed.json --plot latency_vs_rois.png

For each preset: parameters, MACs per image (people-seg UNet) and per ROI (head), latency of the whole model
(UNet + RoI Align + head) for 1, 10 and 50 ROIs on a 480x640 image with PyTorch on the CPU and ONNX Runtime on
the CPU (warm-up, median of repeats, fixed threads), peak memory, and every figure's ratio to
``upstream_b0_64x48`` from the same run. GPU columns (PyTorch, CUDA) are added when a GPU is present.
Each (preset, backend) runs in its own process so peak memory is its own.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
from pathlib import Path

from rhis_plugin.utils.benchmark import write_json

BASELINE = 'upstream_b0_64x48'
DEFAULT_PRESETS = ['rhis_b0_64x48', 'rhis_b1_80x60', 'upstream_b0_64x48', 'upstream_b1_80x60', 'fcn_b0_14x14']


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--presets', nargs='+', default=DEFAULT_PRESETS)
    parser.add_argument('--rois', type=int, nargs='+', default=[1, 10, 50], help='ROI counts to time')
    parser.add_argument('--image-size', type=int, nargs=2, default=(480, 640), metavar=('H', 'W'))
    parser.add_argument('--threads', type=int, default=2, help='CPU threads for PyTorch and ONNX Runtime')
    parser.add_argument('--warmup', type=int, default=2)
    parser.add_argument('--repeats', type=int, default=10)
    parser.add_argument('--max-seconds', type=float, default=20.0, help='stop repeating a measurement after this')
    parser.add_argument('--backends', nargs='+', default=['torch_cpu', 'ort_cpu', 'torch_cuda'],
                        help='torch_cpu, ort_cpu, torch_cuda (skipped without a GPU)')
    parser.add_argument('--out', help='write every figure as JSON here')
    parser.add_argument('--plot', help='write a latency-vs-ROIs plot (PNG) here')
    parser.add_argument('--worker', nargs=2, metavar=('PRESET', 'BACKEND'), help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def rois_for(count: int):
    """``count`` ROIs spread over one image (normalised), each about a quarter of its width."""
    import torch
    generator = torch.Generator().manual_seed(count)
    x1 = torch.rand(count, generator=generator) * 0.7
    y1 = torch.rand(count, generator=generator) * 0.4
    return torch.stack([torch.zeros(count), x1, y1, x1 + 0.25, y1 + 0.55], dim=1)


def worker(args: argparse.Namespace) -> dict:
    """Measures one preset on one backend; runs in a fresh process."""
    import torch

    from rhis_plugin.models import build_rhis
    from rhis_plugin.utils.benchmark import current_rss_mb, median_latency, peak_rss_mb
    from rhis_plugin.utils.complexity import measure_complexity

    preset, backend = args.worker
    torch.set_num_threads(args.threads)
    height, width = args.image_size
    model = build_rhis(preset).eval()
    result: dict = {'preset': preset, 'backend': backend}
    if backend == 'torch_cpu':
        c = measure_complexity(model, (height, width))
        result.update(params=c.params_total, head_params=c.params_head, macs_per_roi=c.macs_per_roi,
                      macs_per_image=c.macs_per_image)
    images = torch.rand(1, 3, height, width)
    latency = {}
    if backend == 'ort_cpu':
        import onnxruntime as ort

        from rhis_plugin.deploy import export_onnx
        with tempfile.TemporaryDirectory() as tmp:
            path = export_onnx(model, Path(tmp) / f'{preset}.onnx', image_size=(height, width))
            options = ort.SessionOptions()
            options.intra_op_num_threads = args.threads
            options.inter_op_num_threads = 1
            session = ort.InferenceSession(str(path), options, providers=['CPUExecutionProvider'])
            del model
            base = current_rss_mb()
            for count in args.rois:
                feed = {'images': images.numpy(), 'rois': rois_for(count).numpy()}
                latency[count] = median_latency(lambda: session.run(None, feed), args.warmup, args.repeats,
                                                args.max_seconds)
    else:
        device = 'cuda' if backend == 'torch_cuda' else 'cpu'
        model.to(device)
        images = images.to(device)
        sync = torch.cuda.synchronize if device == 'cuda' else None
        if device == 'cuda':
            torch.cuda.reset_peak_memory_stats()
        base = current_rss_mb()
        for count in args.rois:
            rois = rois_for(count).to(device)
            with torch.inference_mode():
                latency[count] = median_latency(lambda: model(images, rois), args.warmup, args.repeats,
                                                args.max_seconds, sync)
        if device == 'cuda':
            result['peak_gpu_mb'] = torch.cuda.max_memory_allocated() / 2 ** 20
    result['latency_ms'] = {str(k): v * 1000 for k, v in latency.items()}
    if backend != 'torch_cuda':
        result['peak_rss_mb'] = peak_rss_mb()
        result['inference_mb'] = max(0.0, peak_rss_mb() - base)    # growth over the loaded model: activations
    return result


def run_worker(preset: str, backend: str, args: argparse.Namespace) -> dict:
    command = [sys.executable, __file__, '--worker', preset, backend, '--rois', *map(str, args.rois),
               '--image-size', *map(str, args.image_size), '--threads', str(args.threads), '--warmup',
               str(args.warmup), '--repeats', str(args.repeats), '--max-seconds', str(args.max_seconds)]
    env = {**os.environ, 'OMP_NUM_THREADS': str(args.threads), 'PYTHONWARNINGS': 'ignore'}
    done = subprocess.run(command, capture_output=True, text=True, env=env)
    if done.returncode != 0:
        raise RuntimeError(f'{preset} on {backend} failed:\n{done.stderr[-3000:]}')
    return json.loads(done.stdout.strip().splitlines()[-1])


def plot(results: dict, path: str) -> None:
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.4, 4.2), dpi=120)
    for backend, style in (('torch_cpu', '-o'), ('ort_cpu', '--s')):
        for preset, row in results['presets'].items():
            if backend in row:
                counts = sorted(int(k) for k in row[backend]['latency_ms'])
                ax.plot(counts, [row[backend]['latency_ms'][str(c)] for c in counts], style,
                        label=f'{preset} ({backend})')
    ax.set_xlabel('ROIs per image')
    ax.set_ylabel('latency per image (ms)')
    ax.set_yscale('log')
    ax.set_title(f'{results["image_size"][0]}x{results["image_size"][1]} image, {results["threads"]} CPU threads')
    ax.grid(True, which='both', alpha=0.3)
    ax.legend(fontsize=6)
    fig.tight_layout()
    fig.savefig(path)


def main(argv: list[str] | None = None) -> dict:
    args = parse_args(argv)
    if args.worker:
        print(json.dumps(worker(args)))
        return {}
    import torch
    backends = [b for b in args.backends if b != 'torch_cuda' or torch.cuda.is_available()]
    presets = list(dict.fromkeys([*args.presets, BASELINE]))
    results = {'image_size': list(args.image_size), 'threads': args.threads, 'rois': args.rois,
               'machine': f'{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, '
                          f'torch {torch.__version__}', 'baseline': BASELINE, 'presets': {}}
    for preset in presets:
        row = results['presets'].setdefault(preset, {})
        for backend in backends:
            print(f'measuring {preset} on {backend} ...', flush=True)
            row[backend] = run_worker(preset, backend, args)
    base = results['presets'][BASELINE]
    for preset, row in results['presets'].items():
        row['ratios'] = {'macs_per_roi': row['torch_cpu']['macs_per_roi'] / base['torch_cpu']['macs_per_roi'],
                         'params': row['torch_cpu']['params'] / base['torch_cpu']['params']}
        for backend in backends:
            for count in map(str, args.rois):
                row['ratios'][f'speedup_{backend}_{count}'] = (base[backend]['latency_ms'][count]
                                                               / row[backend]['latency_ms'][count])
    print_table(results, backends)
    if args.out:
        write_json(args.out, results)
    if args.plot:
        Path(args.plot).parent.mkdir(parents=True, exist_ok=True)
        plot(results, args.plot)
    return results


def print_table(results: dict, backends: list[str]) -> None:
    counts = [str(c) for c in results['rois']]
    print(f'\nimage {results["image_size"][0]}x{results["image_size"][1]}, {results["threads"]} threads, '
          f'{results["machine"]}; latency = median ms per image for N ROIs; x = speed-up over {BASELINE}')
    header = f'{"preset":<18} {"params":>7} {"GMAC/img":>8} {"GMAC/ROI":>8} {"MAC ratio":>9}'
    for backend in backends:
        header += ''.join(f' {backend + "@" + c:>16}' for c in counts)
    header += f' {"peak MB":>8} {"infer MB":>8}'
    print(header)
    print('-' * len(header))
    for preset, row in results['presets'].items():
        cpu = row['torch_cpu']
        line = (f'{preset:<18} {cpu["params"] / 1e6:>6.1f}M {cpu["macs_per_image"] / 1e9:>8.2f} '
                f'{cpu["macs_per_roi"] / 1e9:>8.3f} {row["ratios"]["macs_per_roi"]:>9.3f}')
        for backend in backends:
            for c in counts:
                cell = f'{row[backend]["latency_ms"][c]:.0f} ({row["ratios"][f"speedup_{backend}_{c}"]:.1f}x)'
                line += f' {cell:>16}'
        line += f' {cpu["peak_rss_mb"]:>8.0f} {cpu["inference_mb"]:>8.0f}'
        print(line)


if __name__ == '__main__':
    main(sys.argv[1:])
