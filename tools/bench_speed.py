#!/usr/bin/env python
"""Speed and memory of RHIS next to the detector it serves, a YOLO-seg model and the reference, in one run.

    python tools/bench_speed.py --out speed.json --plot latency_vs_persons.png

Measured, each (model, backend) in a fresh process so that peak memory is its own:

- RHIS presets (people-seg UNet at the working size + RoI Align + head; masks at ROI resolution, before
  paste-back) for 1 / 10 / 50 persons on 480x640 and 1080x1920 frames, PyTorch CPU and ONNX Runtime CPU (the
  dynamic-size graph fed the frame), GPU columns when CUDA is present (PyTorch; ONNX Runtime with onnxruntime-gpu,
  also the fp16 file, ``ort_cuda_fp16``; ORT latencies include the copies to and from the GPU, as ``rhis predict``
  pays them); the paste-back of 10 persons at each frame size on its own; parameters and MACs.
- Ultralytics YOLO11n and YOLO11n-seg (random init from their yaml: cost does not depend on what they find),
  exported to ONNX at 640 (raw graphs, NMS excluded on both sides), PyTorch CPU and ORT CPU. YOLO11n-seg's masks are
  its 160x160 prototypes plus per-box coefficients, RHIS's its ROI masks: both before assembly / paste-back.
- A per-stage breakdown of the first preset (UNet, RoI Align, encoder, decoder, paste) in ms and GMAC, 480x640,
  10 persons, PyTorch CPU.

Printed ratios: ``rhis_overhead = RHIS / YOLO11n`` and ``pipeline_vs_seg = (YOLO11n + RHIS) / YOLO11n-seg`` at 1 / 10
/ 50 persons (keys ``..._<backend>_<frame>`` at 10, ``..._<backend>_<frame>_<N>`` at each N), ``frame_scaling = RHIS
at 1080x1920 / at 480x640``, and each preset's speed-up over ``upstream_b0_64x48``; the JSON's ``summary`` holds the
first preset's (the default's) two target ratios at 10 persons on the first frame size on the first of ORT CPU /
PyTorch CPU measured. Run it alone on the machine.

A shared machine's speed drifts over minutes (2x has been seen), and a ratio of two latencies measured minutes apart
inherits the drift. ``--rounds K`` measures every (model, backend) K times, each round in a new order, and keeps the
median of the rounds (each round's figures are in ``*_rounds``), so a slow spell falls on every model alike.

``--table speed.json`` prints the README's speed table from a stored run (the README section is generated so).
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from rhis_plugin.models.presets import DEFAULT_PRESET
from rhis_plugin.utils.benchmark import machine_description, write_json

BASELINE = 'upstream_b0_64x48'
# The default preset leads: the summary ratios and the per-stage breakdown are the first preset's.
DEFAULT_PRESETS = [DEFAULT_PRESET, 'rhis_b0_64x48', 'upstream_b0_64x48', 'fcn_lite0_14x14']
DETECTORS = {'yolo11n': 'yolo11n.yaml', 'yolo11n-seg': 'yolo11n-seg.yaml'}
REFERENCE_ROIS = '10'
# ONNX Runtime backends: execution provider and RHIS's export option (export_onnx's quantize); the detectors run the
# float32 ONNX of each provider (none on the quantized backends, which are RHIS's options).
ORT_BACKENDS = {'ort_cpu': ('CPUExecutionProvider', None), 'ort_cpu_int8': ('CPUExecutionProvider', 'int8'),
                'ort_cuda': ('CUDAExecutionProvider', None), 'ort_cuda_fp16': ('CUDAExecutionProvider', 'fp16')}
BACKENDS = ['torch_cpu', 'torch_cuda', *ORT_BACKENDS]


def frame_size(text: str) -> tuple[int, int]:
    try:
        height, width = (int(v) for v in text.lower().split('x'))
    except ValueError as error:
        raise argparse.ArgumentTypeError(f'frame sizes look like 480x640 (HxW), got {text!r}') from error
    return height, width


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--presets', nargs='+', default=DEFAULT_PRESETS)
    parser.add_argument('--rois', type=int, nargs='+', default=[1, 10, 50], help='persons (ROIs) per frame')
    parser.add_argument('--frame-sizes', type=frame_size, nargs='+', default=[(480, 640), (1080, 1920)],
                        metavar='HxW')
    parser.add_argument('--detectors', nargs='*', default=list(DETECTORS), choices=list(DETECTORS),
                        help='Ultralytics reference models (none: skip)')
    parser.add_argument('--detector-size', type=int, default=640, help='the detectors\' input size')
    parser.add_argument('--threads', type=int, default=2, help='CPU threads for PyTorch and ONNX Runtime')
    parser.add_argument('--warmup', type=int, default=2)
    parser.add_argument('--repeats', type=int, default=10)
    parser.add_argument('--max-seconds', type=float, default=20.0, help='stop repeating a measurement after this')
    parser.add_argument('--backends', nargs='+', default=['torch_cpu', 'ort_cpu', 'torch_cuda', 'ort_cuda'],
                        choices=BACKENDS, metavar='BACKEND',
                        help=f'{", ".join(BACKENDS)}; *_int8 / *_fp16: RHIS only, export_onnx(quantize=...); the CUDA '
                             'ones are skipped without a GPU (torch) or without onnxruntime-gpu (ort)')
    parser.add_argument('--rounds', type=int, default=1,
                        help='measure every (model, backend) this many times, in a new order each round; keep the median')
    parser.add_argument('--table', metavar='JSON', help="print the README's markdown table from a stored run and exit")
    parser.add_argument('--out', help='write every figure as JSON here')
    parser.add_argument('--plot', help='write a latency-vs-persons plot (PNG) here')
    parser.add_argument('--worker', nargs=3, metavar=('KIND', 'NAME', 'BACKEND'), help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def rois_for(count: int):
    """``count`` ROIs spread over one frame (normalised), each about a quarter of its width."""
    import torch
    generator = torch.Generator().manual_seed(count)
    x1 = torch.rand(count, generator=generator) * 0.7
    y1 = torch.rand(count, generator=generator) * 0.4
    return torch.stack([torch.zeros(count), x1, y1, x1 + 0.25, y1 + 0.55], dim=1)


def ort_session(path: Path, backend: str, threads: int):
    from rhis_plugin.deploy import onnx_session     # the sessions rhis predict runs (every graph optimisation)
    provider = ORT_BACKENDS[backend][0]       # nodes the GPU provider lacks fall back to the CPU, as in rhis predict
    return onnx_session(path, list(dict.fromkeys([provider, 'CPUExecutionProvider'])), threads)


def available_backends(backends: list[str]) -> list[str]:
    """``backends`` less the CUDA ones this machine cannot run (no GPU for torch, no CUDA provider in onnxruntime),
    each skip said on stdout."""
    import torch
    providers: list[str] = []
    if any(b in ORT_BACKENDS for b in backends):
        import onnxruntime
        providers = onnxruntime.get_available_providers()
    kept = []
    for backend in backends:
        if backend == 'torch_cuda' and not torch.cuda.is_available():
            print(f'skipping {backend}: no CUDA device')
        elif backend in ORT_BACKENDS and ORT_BACKENDS[backend][0] not in providers:
            print(f'skipping {backend}: onnxruntime has no {ORT_BACKENDS[backend][0]} (install onnxruntime-gpu)')
        else:
            kept.append(backend)
    return kept


def size_key(size: tuple[int, int]) -> str:
    return f'{size[0]}x{size[1]}'


def rhis_worker(preset: str, backend: str, args: argparse.Namespace, tmp: Path) -> dict:
    import torch

    from rhis_plugin.models import build_rhis
    from rhis_plugin.postprocess import PostprocessConfig, RoIMasks
    from rhis_plugin.utils.benchmark import current_rss_mb, median_latency
    from rhis_plugin.utils.complexity import measure_complexity

    model = build_rhis(preset, aux_heads=False).eval()
    mask_size = model.mask_size
    result: dict = {'working_size': model.cfg.working_size}
    if backend == 'torch_cpu':
        c = measure_complexity(model, args.frame_sizes[0])
        result.update(params=c.params_total, head_params=c.params_head, macs_per_roi=c.macs_per_roi,
                      macs_per_image=c.macs_per_image)
    device = 'cuda' if backend == 'torch_cuda' else 'cpu'
    sync = torch.cuda.synchronize if device == 'cuda' else None
    if backend in ORT_BACKENDS:
        from rhis_plugin.deploy import export_onnx
        path = export_onnx(model, tmp / f'{preset}.onnx', quantize=ORT_BACKENDS[backend][1])
        session = ort_session(path, backend, args.threads)
        del model
        run = lambda images, rois: session.run(None, {'images': images.numpy(), 'rois': rois.numpy()})  # noqa: E731
    else:
        model.to(device)
        run = lambda images, rois: model(images, rois)  # noqa: E731
    base = current_rss_mb()
    latency: dict = {}
    for size in args.frame_sizes:
        images = torch.rand(1, 3, *size, device=device)
        latency[size_key(size)] = {}
        for count in args.rois:
            rois = rois_for(count).to(device)
            with torch.inference_mode():
                latency[size_key(size)][str(count)] = 1000 * median_latency(
                    lambda: run(images, rois), args.warmup, args.repeats, args.max_seconds, sync)
    result['latency_ms'] = latency
    if backend == 'torch_cpu':     # the paste-back of 10 persons at each frame size, on its own
        result['paste_ms'] = {}
        for size in args.frame_sizes:
            rois = rois_for(int(REFERENCE_ROIS))
            boxes = rois[:, 1:].clamp(0, 1) * torch.tensor([size[1], size[0], size[1], size[0]])
            roi = RoIMasks(torch.rand(len(boxes), *mask_size), boxes, size, torch.linspace(1, 0.5, len(boxes)))
            result['paste_ms'][size_key(size)] = 1000 * median_latency(lambda: roi.paste(PostprocessConfig()),
                                                                       args.warmup, args.repeats, args.max_seconds)
    _memory(result, backend, base)
    return result


def detector_worker(name: str, backend: str, args: argparse.Namespace, tmp: Path) -> dict:
    import torch
    from ultralytics import YOLO

    from rhis_plugin.utils.benchmark import current_rss_mb, median_latency
    from rhis_plugin.utils.complexity import count_macs

    size = args.detector_size
    yolo = YOLO(DETECTORS[name])
    images = torch.rand(1, 3, size, size)
    result: dict = {'input_size': size}
    device = 'cuda' if backend == 'torch_cuda' else 'cpu'
    sync = torch.cuda.synchronize if device == 'cuda' else None
    if backend in ORT_BACKENDS:
        os.chdir(tmp)
        path = yolo.export(format='onnx', imgsz=size, simplify=False, verbose=False)
        session = ort_session(Path(path), backend, args.threads)
        name_in = session.get_inputs()[0].name
        run = lambda: session.run(None, {name_in: images.numpy()})  # noqa: E731
    else:
        network = yolo.model.fuse().eval().to(device)
        images = images.to(device)
        if backend == 'torch_cpu':
            result['gmac'] = count_macs(lambda: network(images)) / 1e9
            result['params'] = sum(p.numel() for p in network.parameters())
        run = lambda: network(images)  # noqa: E731
    base = current_rss_mb()
    with torch.inference_mode():
        result['latency_ms'] = 1000 * median_latency(run, args.warmup, args.repeats, args.max_seconds, sync)
    _memory(result, backend, base)
    return result


def breakdown_worker(preset: str, args: argparse.Namespace) -> dict:
    """UNet, RoI Align, encoder, decoder and paste of ``preset`` for 10 persons on the first frame size."""
    import torch

    from rhis_plugin.models import build_rhis
    from rhis_plugin.postprocess import PostprocessConfig
    from rhis_plugin.utils.benchmark import median_latency
    from rhis_plugin.utils.complexity import count_macs

    model = build_rhis(preset, aux_heads=False).eval()
    if not hasattr(model, 'roi_encoder'):
        return {}
    size = args.frame_sizes[0]
    images = torch.rand(1, 3, *size)
    rois = rois_for(int(REFERENCE_ROIS))
    with torch.inference_mode():
        logits, features, scales = model.segment_people(images)
        frame_boxes, working_boxes = model.roi_boxes(rois, images, scales)
        pooled, guide = model.crop_inputs(images, logits, features, frame_boxes, working_boxes)
        encoded = model.roi_encoder(pooled[:, :4])
        probs = torch.softmax(model.head(encoded, pooled, guide, with_aux=False)['masks'], 1)[:, 1]
        roi = model.predict_rois(images, [frame_boxes[:, 1:]])[0]
        stages = {
            'unet': lambda: model.segment_people(images),
            'roi_align': lambda: model.crop_inputs(images, logits, features, frame_boxes, working_boxes),
            'encoder': lambda: model.roi_encoder(pooled[:, :4]),
            'decoder': lambda: model.head(encoded, pooled, guide, with_aux=False),
            'paste': lambda: roi.paste(PostprocessConfig()),
        }
        out = {'frame_size': size_key(size), 'persons': int(REFERENCE_ROIS), 'mask_probs_shape': list(probs.shape)}
        for stage, fn in stages.items():
            out[stage] = {'ms': 1000 * median_latency(fn, args.warmup, args.repeats, args.max_seconds),
                          'gmac': count_macs(fn) / 1e9 if stage != 'paste' else 0.0}
    return out


def _memory(result: dict, backend: str, base: float) -> None:
    from rhis_plugin.utils.benchmark import peak_rss_mb
    if backend == 'torch_cuda':
        import torch
        result['peak_gpu_mb'] = torch.cuda.max_memory_allocated() / 2 ** 20
    else:
        result['peak_rss_mb'] = peak_rss_mb()
        result['inference_mb'] = max(0.0, peak_rss_mb() - base)    # growth over the loaded model: activations


def worker(args: argparse.Namespace) -> dict:
    import torch
    torch.set_num_threads(args.threads)
    kind, name, backend = args.worker
    with tempfile.TemporaryDirectory() as tmp:
        if kind == 'rhis':
            return rhis_worker(name, backend, args, Path(tmp))
        if kind == 'detector':
            return detector_worker(name, backend, args, Path(tmp))
        return breakdown_worker(name, args)


def run_worker(kind: str, name: str, backend: str, args: argparse.Namespace) -> dict:
    command = [sys.executable, __file__, '--worker', kind, name, backend, '--rois', *map(str, args.rois),
               '--frame-sizes', *map(size_key, args.frame_sizes), '--detector-size', str(args.detector_size),
               '--threads', str(args.threads), '--warmup', str(args.warmup), '--repeats', str(args.repeats),
               '--max-seconds', str(args.max_seconds)]
    env = {**os.environ, 'OMP_NUM_THREADS': str(args.threads), 'PYTHONWARNINGS': 'ignore'}
    done = subprocess.run(command, capture_output=True, text=True, env=env)
    if done.returncode != 0:
        raise RuntimeError(f'{kind} {name} on {backend} failed:\n{done.stderr[-3000:]}')
    return json.loads(done.stdout.strip().splitlines()[-1])


def median_of_rounds(runs: list[dict]) -> dict:
    """One (model, backend)'s rounds -> the first round's record with the median latencies (``latency_ms_rounds``:
    every round's) and the highest peak memory."""
    import statistics
    merged = dict(runs[0])
    if len(runs) > 1:
        latencies = [r['latency_ms'] for r in runs]
        if isinstance(latencies[0], dict):
            merged['latency_ms'] = {size: {n: statistics.median(r[size][n] for r in latencies) for n in by_count}
                                    for size, by_count in latencies[0].items()}
        else:
            merged['latency_ms'] = statistics.median(latencies)
        merged['latency_ms_rounds'] = latencies
        for key in ('peak_rss_mb', 'inference_mb', 'peak_gpu_mb'):
            if key in merged:
                merged[key] = max(r[key] for r in runs)
    return merged


def ratios(results: dict, backends: list[str]) -> None:
    """Speed-ups over the reference architecture, and the RHIS-vs-detector ratios at 10 persons."""
    sizes = list(results['rhis'][next(iter(results['rhis']))][backends[0]]['latency_ms'])
    base = results['rhis'].get(BASELINE)
    for preset, row in results['rhis'].items():
        r = row['ratios'] = {}
        if base is not None and 'torch_cpu' in row:       # complexity is counted with the PyTorch CPU run
            r['macs_per_roi'] = row['torch_cpu']['macs_per_roi'] / base['torch_cpu']['macs_per_roi']
            r['params'] = row['torch_cpu']['params'] / base['torch_cpu']['params']
        for backend in backends:
            latency = row[backend]['latency_ms']
            if REFERENCE_ROIS in latency[sizes[0]] and len(sizes) > 1:
                r[f'frame_scaling_{backend}'] = latency[sizes[-1]][REFERENCE_ROIS] / latency[sizes[0]][REFERENCE_ROIS]
            for size in sizes:
                for count, ms in latency[size].items():
                    if base is not None:
                        r[f'speedup_{backend}_{size}_{count}'] = base[backend]['latency_ms'][size][count] / ms
                    detectors = results['detectors']
                    if backend not in detectors.get('yolo11n', {}):
                        continue
                    yolo = detectors['yolo11n'][backend]['latency_ms']
                    at = '' if count == REFERENCE_ROIS else f'_{count}'    # 10 persons: the target keys
                    r[f'rhis_overhead_{backend}_{size}{at}'] = ms / yolo
                    if backend in detectors.get('yolo11n-seg', {}):
                        r[f'pipeline_vs_seg_{backend}_{size}{at}'] = (yolo + ms) / detectors['yolo11n-seg'][backend][
                            'latency_ms']


def plot(results: dict, path: str) -> None:
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt

    backend = 'ort_cpu' if any('ort_cpu' in row for row in results['rhis'].values()) else 'torch_cpu'
    sizes = results['frame_sizes']
    fig, axes = plt.subplots(1, len(sizes), figsize=(5.2 * len(sizes), 4.2), dpi=120, sharey=True, squeeze=False)
    for ax, size in zip(axes[0], sizes):
        for preset, row in results['rhis'].items():
            if backend in row:
                latency = row[backend]['latency_ms'][size]
                counts = sorted(int(k) for k in latency)
                ax.plot(counts, [latency[str(c)] for c in counts], '-o', label=preset)
        for name, style in (('yolo11n', '--'), ('yolo11n-seg', ':')):
            if backend in results['detectors'].get(name, {}):
                ax.axhline(results['detectors'][name][backend]['latency_ms'], color='k', linestyle=style,
                           label=f'{name} ({results["detector_size"]}, whole model)')
        ax.set_xlabel('persons (ROIs) per frame')
        ax.set_yscale('log')
        ax.set_title(f'{size} frame, {backend}, {results["threads"]} threads', fontsize=9)
        ax.grid(True, which='both', alpha=0.3)
    axes[0][0].set_ylabel('latency per frame (ms)')
    axes[0][-1].legend(fontsize=6)
    fig.tight_layout()
    fig.savefig(path)


def main(argv: list[str] | None = None) -> dict:
    args = parse_args(argv)
    if args.worker:
        print(json.dumps(worker(args)))
        return {}
    if args.table:
        print(markdown_table(json.loads(Path(args.table).read_text())))
        return {}
    if args.rounds < 1:
        raise SystemExit(f'--rounds must be >= 1, got {args.rounds}')
    backends = available_backends(args.backends)
    if not backends:
        raise SystemExit('none of --backends can run on this machine')
    results = {'command': 'python tools/bench_speed.py ' + ' '.join(argv if argv is not None else sys.argv[1:]),
               'frame_sizes': [size_key(s) for s in args.frame_sizes], 'threads': args.threads, 'rois': args.rois,
               'detector_size': args.detector_size,
               'machine': machine_description(), 'baseline': BASELINE, 'rhis': {}, 'detectors': {}}
    jobs = [('rhis', preset, backend) for preset in dict.fromkeys(args.presets) for backend in backends]
    jobs += [('detector', name, backend) for name in args.detectors for backend in backends
             if not (backend in ORT_BACKENDS and ORT_BACKENDS[backend][1])]
    measured: dict = {job: [] for job in jobs}
    for round_index in range(args.rounds):
        shift = round_index * len(jobs) // args.rounds    # each round starts elsewhere in the list
        for job in jobs[shift:] + jobs[:shift]:
            print(f'round {round_index + 1}/{args.rounds}: measuring {job[1]} on {job[2]} ...', flush=True)
            measured[job].append(run_worker(*job, args))
    for (kind, name, backend), runs in measured.items():
        group = results['rhis' if kind == 'rhis' else 'detectors']
        group.setdefault(name, {})[backend] = median_of_rounds(runs)
    results['breakdown'] = run_worker('breakdown', args.presets[0], 'torch_cpu', args)
    ratios(results, backends)
    results['summary'] = summary(results, backends)
    print_table(results, backends)
    if args.out:
        write_json(args.out, results)
    if args.plot:
        Path(args.plot).parent.mkdir(parents=True, exist_ok=True)
        plot(results, args.plot)
    return results


def print_table(results: dict, backends: list[str]) -> None:
    counts = [str(c) for c in results['rois']]
    print(f'\n{results["threads"]} threads, {results["machine"]}; median ms per frame for N persons (RHIS: UNet at '
          'the working size + RoI Align + head, ROI masks before paste-back)')
    header = f'{"model":<18} {"frame":>10} {"backend":>10}' + ''.join(f' {"N=" + c:>9}' for c in counts)
    header += f' {"paste 10":>9} {"peak MB":>8}'
    print(header)
    print('-' * len(header))
    for preset, row in results['rhis'].items():
        for backend in backends:
            for size, latency in row[backend]['latency_ms'].items():
                line = f'{preset:<18} {size:>10} {backend:>10}' + ''.join(f' {latency[c]:>9.1f}' for c in counts)
                paste = row[backend].get('paste_ms', {}).get(size)
                line += f' {paste:>9.1f}' if paste is not None else f' {"":>9}'
                line += f' {row[backend].get("peak_rss_mb", row[backend].get("peak_gpu_mb", 0)):>8.0f}'
                print(line)
    for name, row in results['detectors'].items():
        for backend in (b for b in backends if b in row):
            m = row[backend]
            gmac = row.get('torch_cpu', {}).get('gmac', float('nan'))
            print(f'{name:<18} {results["detector_size"]:>10} {backend:>10} {m["latency_ms"]:>9.1f} (whole model, '
                  f'{gmac:.2f} GMAC) {m.get("peak_rss_mb", 0):>8.0f} MB')
    print(f'\nratios (< 1: RHIS is cheaper; keys without a person count: {REFERENCE_ROIS} persons)')
    for preset, row in results['rhis'].items():
        shown = {k: v for k, v in row['ratios'].items() if not k.startswith('speedup_') or k.endswith('_10')}
        print(f'  {preset}: ' + ', '.join(f'{k} {v:.2f}' for k, v in shown.items()))
    b = results.get('breakdown') or {}
    if b:
        print(f'\nper stage, {results["rhis"] and next(iter(results["rhis"]))}, {b["frame_size"]}, {b["persons"]} '
              'persons, PyTorch CPU: ' + ', '.join(f'{k} {b[k]["ms"]:.1f} ms / {b[k]["gmac"]:.2f} GMAC'
                                                    for k in ('unet', 'roi_align', 'encoder', 'decoder', 'paste')))
    print('(speed-up over upstream_b0_64x48 in ratios: speedup_<backend>_<frame>_<persons>)')
    if results.get('summary'):
        print('targets, ' + ', '.join(f'{k} {v}' for k, v in results['summary'].items()))


LABELS = {DEFAULT_PRESET: 'default', BASELINE: 'reference', 'fcn_lite0_14x14': 'Mask R-CNN head'}


def markdown_table(results: dict) -> str:
    """The README's speed table from a stored run: latency at 1 / 10 / 50 persons per backend, paste-back, GMAC,
    peak memory, and the two ratios at each person count (ORT CPU, else PyTorch CPU)."""
    backend = next((b for b in ('ort_cpu', 'torch_cpu') if b in next(iter(results['rhis'].values()))), 'torch_cpu')
    names = {'ort_cpu': 'ORT CPU', 'ort_cpu_int8': 'ORT CPU int8', 'torch_cpu': 'PyTorch CPU',
             'torch_cuda': 'PyTorch CUDA', 'ort_cuda': 'ORT CUDA', 'ort_cuda_fp16': 'ORT CUDA fp16'}
    backends = [b for b in names if b in next(iter(results['rhis'].values()))]
    counts = ' / '.join(str(c) for c in results['rois'])
    lines = ['| model | frame | ' + ' | '.join(f'{names[b]} ms ({counts} persons)' for b in backends)
             + f' | RHIS / YOLO11n ({names[backend]}) | (YOLO11n + RHIS) / YOLO11n-seg | paste-back of 10 | GMAC | '
               'peak MB |', '|---' * (len(backends) + 7) + '|']
    for preset, row in results['rhis'].items():
        label = f'`{preset}`' + (f' ({LABELS[preset]})' if preset in LABELS else '')
        for i, size in enumerate(results['frame_sizes']):
            cells = [' / '.join(f"{row[b]['latency_ms'][size][str(c)]:.0f}" for c in results['rois']) for b in backends]
            ratio = [' / '.join(f"{row['ratios'][k]:.2f}" for k in
                                (f'{key}_{backend}_{size}' + ('' if str(c) == REFERENCE_ROIS else f'_{c}')
                                 for c in results['rois']) if k in row['ratios']) or '-'
                     for key in ('rhis_overhead', 'pipeline_vs_seg')]
            cpu = row.get('torch_cpu', {})
            paste = cpu.get('paste_ms', {}).get(size)
            gmac = (f"{cpu['macs_per_image'] / 1e9:.2f} + {cpu['macs_per_roi'] / 1e9:.3f} / person"
                    if 'macs_per_image' in cpu and i == 0 else '')
            memory = ' / '.join(f"{row[b]['peak_rss_mb']:.0f}" for b in backends if 'peak_rss_mb' in row[b]) if i == 0 else ''
            lines.append(f'| {label} | {size} | ' + ' | '.join(cells) + f' | {ratio[0]} | {ratio[1]} | '
                         + (f'{paste:.0f} ms' if paste is not None else '') + f' | {gmac} | {memory} |')
    for name, row in results['detectors'].items():
        cells = [f"{row[b]['latency_ms']:.1f}" if b in row else '' for b in backends]
        gmac = f"{row['torch_cpu']['gmac']:.2f}" if 'gmac' in row.get('torch_cpu', {}) else ''
        memory = ' / '.join(f"{row[b]['peak_rss_mb']:.0f}" for b in backends if 'peak_rss_mb' in row.get(b, {}))
        label = 'YOLO11n (detector only)' if name == 'yolo11n' else name.replace('yolo11n', 'YOLO11n')
        lines.append(f"| {label} | {results['detector_size']} | " + ' | '.join(cells) + f' | | | | {gmac} | {memory} |')
    return '\n'.join(lines)


def summary(results: dict, backends: list[str]) -> dict:
    """The first preset's target ratios at 10 persons on the first frame size (ORT CPU when measured)."""
    preset = next(iter(results['rhis']))
    backend = next((b for b in ('ort_cpu', 'torch_cpu') if b in backends), backends[0])
    size = results['frame_sizes'][0]
    out: dict = {'preset': preset, 'backend': backend, 'frame_size': size, 'persons': int(REFERENCE_ROIS)}
    for key in ('rhis_overhead', 'pipeline_vs_seg'):
        value = results['rhis'][preset]['ratios'].get(f'{key}_{backend}_{size}')
        out[key] = None if value is None else round(value, 2)
    return out


if __name__ == '__main__':
    main(sys.argv[1:])
