#!/usr/bin/env python
"""People-seg encoders side by side: binary IoU, Dice/F1, precision, recall, AUROC on a val set, with and without
guided-filter refinement, plus parameters, GMACs and CPU latency per image.

    python tools/bench_peopleseg.py --data-root ../shared/data/pennfudan --iters 300 --out peopleseg.json

Each encoder trains through its mmengine config (``configs/mmdet/peopleseg/``, ``ENCODER_CONFIGS``) for the
same number of iterations, or loads ``--checkpoint ENCODER=PATH`` (a PeopleSegmentor checkpoint) instead.
Latency: PyTorch CPU, batch 1 at the config's input size, median of repeats; the guided filter separately.
"""
from __future__ import annotations

import argparse
import os.path as osp
import shlex
import sys
import time

import torch

import rhis_plugin.mmdet  # noqa: F401  (registers the plugin's modules)
from rhis_plugin.mmdet.runner import short_run_config
from rhis_plugin.models import PeopleSegUNet
from rhis_plugin.postprocess import fast_guided_filter
from rhis_plugin.utils.benchmark import median_latency, write_json
from rhis_plugin.utils.complexity import count_macs

CONFIGS = osp.join(osp.dirname(osp.dirname(osp.abspath(__file__))), 'configs', 'mmdet', 'peopleseg')
ENCODER_CONFIGS = {   # --encoders name -> config (the Resize steps take --image-size)
    'b0': 'peopleseg-unet_b0_1xb4-50e_coco-person-lb320.py',
    'b1': 'peopleseg-unet_b1_1xb4-50e_coco-person-lb320.py',
    'b7': 'peopleseg-unet_b7_1xb4-50e_coco-person-lb320.py',
    'mobilenetv3_large': 'peopleseg-unet_mobilenetv3-large_1xb4-50e_coco-person-lb320.py',
    'mobilenetv3_small': 'peopleseg-unet_mobilenetv3-small_1xb4-50e_coco-person-lb320.py',
}
ENCODERS = list(ENCODER_CONFIGS)
METRICS = ('iou', 'dice', 'precision', 'recall', 'auroc')


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--data-root', required=True, help='COCO-format folder with train/ and val/')
    parser.add_argument('--encoders', nargs='+', default=ENCODERS, choices=ENCODERS)
    parser.add_argument('--iters', type=int, default=300, help='training iterations per encoder')
    parser.add_argument('--checkpoint', nargs='*', default=[], metavar='ENCODER=PATH',
                        help='use these trained weights instead of training (e.g. b7=work_dirs/.../iter_300.pth)')
    parser.add_argument('--image-size', type=int, nargs=2, default=(320, 320), metavar=('W', 'H'),
                        help='Resize scale; the configs letterbox into it (long side 320: the RHIS working size)')
    parser.add_argument('--batch-size', type=int, default=4)
    parser.add_argument('--guided', type=float, nargs=2, default=(4, 1e-2), metavar=('RADIUS', 'EPS'),
                        help='guided-filter refinement settings (pixels at the input size, regularisation)')
    parser.add_argument('--threads', type=int, default=2)
    parser.add_argument('--work-dir', default='work_dirs/bench_peopleseg')
    parser.add_argument('--out', help='write the results as JSON here')
    return parser.parse_args(argv)


def validate_both_ways(runner, radius: int, eps: float) -> tuple[dict, dict]:
    """Validation metrics of the runner's model without and with guided-filter refinement."""
    model = runner.model
    model.refine_type, model.refine_options = None, {}
    plain = runner.val()
    model.refine_type, model.refine_options = 'guided', dict(radius=radius, eps=eps)
    refined = runner.val()
    model.refine_type, model.refine_options = None, {}
    return plain, refined


def speed(unet: PeopleSegUNet, size: tuple[int, int], radius: int, eps: float) -> dict:
    unet = unet.eval()
    width, height = size
    images = torch.rand(1, 3, height, width)
    prob = torch.rand(1, 1, height, width)
    with torch.inference_mode():
        unet_ms = 1000 * median_latency(lambda: unet(images), warmup=2, repeats=10)
        filter_ms = 1000 * median_latency(lambda: fast_guided_filter(images, prob, radius, eps), warmup=2, repeats=20)
    return {'params': sum(p.numel() for p in unet.parameters()), 'gmacs': count_macs(lambda: unet(images)) / 1e9,
            'latency_ms': unet_ms, 'guided_filter_ms': filter_ms}


def main(argv: list[str] | None = None) -> dict:
    from mmengine.runner import Runner

    args = parse_args(argv)
    torch.set_num_threads(args.threads)
    checkpoints = dict(entry.split('=', 1) for entry in args.checkpoint)
    unknown = set(checkpoints) - set(ENCODERS)
    if unknown:
        raise SystemExit(f'--checkpoint names unknown encoders {sorted(unknown)} (choose from {ENCODERS})')
    radius, eps = int(args.guided[0]), float(args.guided[1])
    results: dict = {'command': 'python tools/bench_peopleseg.py ' + shlex.join(argv if argv is not None
                                                                                else sys.argv[1:]),
                     'data_root': args.data_root, 'image_size': list(args.image_size), 'iters': args.iters,
                     'guided': {'radius': radius, 'eps': eps}, 'threads': args.threads, 'encoders': {}}
    for name in args.encoders:
        cfg = short_run_config(osp.join(CONFIGS, ENCODER_CONFIGS[name]), osp.join(args.work_dir, name), args.iters,
                               data_root=args.data_root,
                               image_size=tuple(args.image_size), batch_size=args.batch_size)
        start = time.perf_counter()
        if name in checkpoints:
            cfg.load_from = checkpoints[name]
            runner = Runner.from_cfg(cfg)
            trained = f'loaded {checkpoints[name]}'
        else:
            print(f'== {name}: training {args.iters} iterations')
            runner = Runner.from_cfg(cfg)
            runner.train()
            trained = f'{args.iters} iterations'
        plain, refined = validate_both_ways(runner, radius, eps)
        row = {'trained': trained, 'seconds': round(time.perf_counter() - start, 1),
               'plain': {m: plain[f'peopleseg/{m}'] for m in METRICS},
               'guided': {m: refined[f'peopleseg/{m}'] for m in METRICS},
               **speed(runner.model.unet.cpu(), tuple(args.image_size), radius, eps)}
        results['encoders'][name] = row
    print_table(results)
    if args.out:
        write_json(args.out, results)
    return results


def print_table(results: dict) -> None:
    w, h = results['image_size']
    print(f'\nPeople-seg UNet encoders on {results["data_root"]}/val, {w}x{h} inputs, scored at the original size; '
          f'+GF = fast guided filter (r={results["guided"]["radius"]}, eps={results["guided"]["eps"]}); '
          f'latency: PyTorch CPU, batch 1, {results["threads"]} threads')
    header = (f'{"encoder":<18} {"params":>7} {"GMAC":>6} {"ms":>6} {"IoU":>6} {"F1":>6} {"prec.":>6} {"recall":>6} '
              f'{"AUROC":>6} {"IoU+GF":>7} {"F1+GF":>6} {"GF ms":>6}  trained')
    print(header)
    print('-' * len(header))
    for name, r in results['encoders'].items():
        p, g = r['plain'], r['guided']
        print(f'{name:<18} {r["params"] / 1e6:>6.1f}M {r["gmacs"]:>6.2f} {r["latency_ms"]:>6.0f} {p["iou"]:>6.3f} '
              f'{p["dice"]:>6.3f} {p["precision"]:>6.3f} {p["recall"]:>6.3f} {p["auroc"]:>6.3f} {g["iou"]:>7.3f} '
              f'{g["dice"]:>6.3f} {r["guided_filter_ms"]:>6.1f}  {r["trained"]}')


if __name__ == '__main__':
    main(sys.argv[1:])
