#!/usr/bin/env python
"""Mask heads on GT boxes, like for like: RHIS against the reference architecture and FCN heads, several seeds, a
learning curve, every row mean +- sd.

    python tools/bench_quality.py --train ../shared/data/pennfudan/train ../shared/data/coco_person_train:train \
        --val ../shared/data/pennfudan/val ../shared/data/coco_person_train:val \
        --iters 250 500 1000 --seeds 0 1 2 --out-dir docs/results/quality

What is the same for every contender: the frozen people-seg UNet (``--peopleseg``: the starter's, a checkpoint, or
one trained here at the working size, the geometry it then runs at; its IoU on each val set is reported; contenders
whose UNets differ, e.g. a lighter decoder, each get one trained here by the same recipe), the data
(train letterboxed to ``--image-size``), box jitter, batch, ROIs per image, the data order and jitter of each seed,
and the schedule (AdamW, warm-up + cosine over the largest ``--iters``; the smaller ones are points of that run's
learning curve). Each contender's initial weights come from its own seed (name + seed), so they do not depend on
the order of the runs. RHIS ROI encoders start from ImageNet (the reference architecture has none: from scratch);
``<preset>_scratch`` is the same contender with its ROI encoder from scratch (the frozen UNet is the same for both),
so the share of the ImageNet start is visible; ``<preset>_copy_paste`` the same contender trained with people pasted
from other training images onto half of its samples (:mod:`rhis_plugin.data.copy_paste`), the one change.
``--teacher FILE`` trains every contender with a frozen, trained RHIS teaching it on the same ROIs
(:class:`rhis_plugin.training.Distillation`; its training is not part of the contender's budget: say so).
``--jitter SCALE SHIFT`` changes the GT-box jitter of the training ROIs for every contender (the one change of a box
jitter ablation); ``--detector FILE`` scores every curve point on that detector's boxes too (``rhis eval --detector``'s
protocol: mask AP / box AP and where the rest goes, the matched persons' mask IoU on its boxes and on their GT boxes).

Contenders are presets, trained with their family's loss: ``rhis_*`` and ``upstream_*`` with RHISLoss, ``fcn_*``
with Mask R-CNN's BCE; ``fcn_*_dice_boundary`` is the FCN head with the terms of RHIS's loss that apply to a
single-class head (BCE + Dice + boundary band, RHIS's weights), so that against RHIS only the architecture differs.
The FCN heads have no ROI encoder (four convolutions on RGB + person map + UNet features at 14x14, from scratch): that
difference is the design. ``unet_in_box_*`` and ``box_filled`` are not trained.

Scoring: ``rhis eval``'s protocol on every val folder (:func:`rhis_plugin.deploy.evaluate_rhis`, GT boxes): COCO mask
AP / AP50 / AP75 at original size, the occluded subset, target IoU, UNet IoU. Each (contender, seed) run writes
``<out-dir>/runs/<contender>_seed<k>.json`` as its curve grows and the trained model as ``<contender>_seed<k>.pth``
(for ``rhis eval --detector`` on a detector's boxes); a finished run is not repeated, an interrupted one is run again,
so the runs can be made on another machine (a GPU) and summarised here. ``<out-dir>/summary.json`` holds mean +- sd
over seeds, each contender's latency, measured when the summary is written, on this machine's CPU, and its GMAC per
person and of its UNet per frame (both at ``--latency-size``).
"""
from __future__ import annotations

import argparse
import ast
import hashlib
import json
import shlex
import sys
import time
from pathlib import Path

import torch

from rhis_plugin.data.coco_dataset import coco_person_dataset, datasets_by_spec
from rhis_plugin.deploy import RHISBackend, evaluate_rhis
from rhis_plugin.deploy.evaluate import MATCHED_FIGURES
from rhis_plugin.deploy.detectors import load_detector
from rhis_plugin.losses import RHISLoss, TargetMaskLoss
from rhis_plugin.models import PeopleSegUNet, build_rhis, list_presets, load_rhis, preset_config, save_rhis
from rhis_plugin.models.imagenet import imagenet_weights_name, load_imagenet_weights
from rhis_plugin.models.rhis import RHIS
from rhis_plugin.data.occlusion import OCCLUDED
from rhis_plugin.training import Distillation, TrainConfig, train_peopleseg, train_rhis
from rhis_plugin.utils.benchmark import machine_description, mean_sd, median_latency, write_json
from rhis_plugin.utils.complexity import measure_complexity
from rhis_plugin.weights import STARTER, STARTER_PRESET

DEFAULT_CONTENDERS = ['rhis_lite0_64x48', 'upstream_lite0_64x48', 'fcn_lite0_14x14', 'fcn_lite0_14x14_dice_boundary',
                      'unet_in_box_lite0', 'box_filled']
DICE_BOUNDARY = '_dice_boundary'
SCRATCH = '_scratch'
COPY_PASTE = '_copy_paste'
COPY_PASTE_PROBABILITY = 0.5
UNTRAINED = ('unet_in_box', 'box_filled')
METRICS = ('segm_AP', 'segm_AP50', 'segm_AP75', 'segm_AP_occluded', 'target_iou')
DETECTOR_METRICS = ('bbox_AP', 'segm_AP', 'segm_AP75', 'segm_AP_occluded', 'mask_box_ratio', 'segm_AP_rescored',
                    *MATCHED_FIGURES)
DEFAULT_JITTER = {'scale': TrainConfig.jitter_scale, 'shift': TrainConfig.jitter_shift}


def contender_names() -> list[str]:
    presets = list_presets()
    return (presets + [f'{p}{DICE_BOUNDARY}' for p in presets if p.startswith('fcn_')]
            + [f'{p}{SCRATCH}' for p in presets if p.startswith(('rhis_', 'upstream_'))]
            + [f'{p}{COPY_PASTE}' for p in presets if p.startswith('rhis')])


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--train', nargs='+', required=True, help='COCO person folders, each PATH or PATH:train|val')
    parser.add_argument('--val', nargs='+', required=True,
                        help='val folders, scored one by one; PATH[:split][#SOURCE] keeps the images whose source '
                             'starts with SOURCE')
    parser.add_argument('--sources', nargs='+', default=None, help='training images whose source starts so')
    parser.add_argument('--contenders', nargs='+', default=DEFAULT_CONTENDERS, choices=contender_names(),
                        metavar='CONTENDER')
    parser.add_argument('--iters', type=int, nargs='+', default=[250, 500, 1000],
                        help='points of the learning curve; the run trains to the largest')
    parser.add_argument('--seeds', type=int, nargs='+', default=[0, 1, 2])
    parser.add_argument('--peopleseg', default='starter',
                        help="the frozen UNet: 'starter', a checkpoint, or 'train' (stage 1 here, --peopleseg-iters)")
    parser.add_argument('--peopleseg-iters', type=int, default=500)
    parser.add_argument('--image-size', type=int, default=320, help='training letterbox size (square)')
    parser.add_argument('--working-size', type=int, default=None,
                        help="every contender's people-seg working size (default: each preset's); with --peopleseg "
                             'train the UNet trains at that letterbox, the geometry it runs at')
    parser.add_argument('--model-options', nargs='+', default=[], metavar='KEY=VALUE',
                        help='RHISConfig fields changed for every contender, e.g. '
                             'unet_decoder_channels=128,64,32,32,16 (a variant of a preset, measured as one change)')
    parser.add_argument('--teacher', default=None,
                        help="a trained RHIS file (e.g. another run's runs/*.pth) that teaches every trained "
                             'contender on the same ROIs (distillation, the one change)')
    parser.add_argument('--kd-weight', type=float, default=0.5, help="the teacher's share of the loss")
    parser.add_argument('--kd-temperature', type=float, default=4.0)
    parser.add_argument('--jitter', type=float, nargs=2, default=None, metavar=('SCALE', 'SHIFT'),
                        help='GT-box jitter of the training ROIs: sd of the log side-length scale and of the centre '
                             f"shift (fraction of the side); default {DEFAULT_JITTER['scale']} "
                             f"{DEFAULT_JITTER['shift']}")
    parser.add_argument('--detector', default=None,
                        help="also score every curve point on this detector's boxes (anything rhis eval --detector "
                             'takes)')
    parser.add_argument('--conf', type=float, default=0.05, help="--detector's score threshold (rhis eval's)")
    parser.add_argument('--batch-size', type=int, default=4)
    parser.add_argument('--lr', type=float, default=2e-3)
    parser.add_argument('--max-rois', type=int, default=8, help='training ROIs per image')
    parser.add_argument('--device', default='cuda' if torch.cuda.is_available() else 'cpu', help='training device')
    parser.add_argument('--workers', type=int, default=0, help='data loader workers')
    parser.add_argument('--threads', type=int, default=2, help='CPU threads (training and latency)')
    parser.add_argument('--latency-size', type=int, nargs=2, default=(480, 640), metavar=('H', 'W'),
                        help='image size of the latency measurement (10 ROIs, PyTorch on the CPU)')
    parser.add_argument('--out-dir', default='docs/results/quality')
    parser.add_argument('--plot', help='write a mask-AP-vs-latency plot (PNG) here')
    args = parser.parse_args(argv)
    args.iters = sorted(set(args.iters))
    args.model_options = parse_model_options(parser, args.model_options)
    if args.teacher is not None and not Path(args.teacher).is_file():
        parser.error(f'--teacher: no such file: {args.teacher}')
    if not 0 <= args.kd_weight <= 1 or args.kd_temperature <= 0:
        parser.error('--kd-weight must be in [0, 1] and --kd-temperature > 0')
    if args.jitter is not None and min(args.jitter) < 0:
        parser.error(f'--jitter takes two sds >= 0, got {args.jitter}')
    return args


def parse_model_options(parser: argparse.ArgumentParser, pairs: list[str]) -> dict:
    """``KEY=VALUE`` pairs as RHISConfig overrides; values are Python literals (``128,64`` is a tuple)."""
    options = {}
    for pair in pairs:
        key, sep, value = pair.partition('=')
        if not sep:
            parser.error(f'--model-options takes KEY=VALUE pairs, got {pair!r}')
        try:
            options[key] = ast.literal_eval(value)
        except (ValueError, SyntaxError):
            options[key] = value
    try:
        build_rhis(DEFAULT_CONTENDERS[0], peopleseg_weights='random', **options)
    except (ValueError, TypeError) as error:
        parser.error(f'--model-options: {error}')
    return options


def preset_of(contender: str) -> str:
    return contender.removesuffix(DICE_BOUNDARY).removesuffix(SCRATCH).removesuffix(COPY_PASTE)


def imagenet_start(contender: str) -> bool:
    """Whether the contender's ROI encoder starts from the offline ImageNet weights: RHIS presets with lite encoders, not
    ``_scratch``. The reference architecture and the FCN head have no ROI encoder: they start from scratch."""
    return (build_family(contender) == 'rhis' and not contender.endswith(SCRATCH)
            and preset_of(contender).split('_')[1].startswith('lite'))


def loss_of(contender: str) -> torch.nn.Module | None:
    family = build_family(contender)
    if family in UNTRAINED:
        return None
    if family == 'fcn':
        return TargetMaskLoss(dice=1.0, boundary=0.1) if contender.endswith(DICE_BOUNDARY) else TargetMaskLoss()
    return RHISLoss()


def build_family(contender: str) -> str:
    preset = preset_of(contender)
    return next(f for f in ('unet_in_box', 'box_filled', 'upstream', 'rhis', 'fcn') if preset.startswith(f))


def model_options(args: argparse.Namespace) -> dict:
    """The RHISConfig overrides every contender gets: ``--model-options`` and ``--working-size``."""
    working = {} if args.working_size is None else {'working_size': args.working_size}
    return {**args.model_options, **working}


def distillation_record(args: argparse.Namespace) -> dict | None:
    """The teacher every trained contender learns from (``--teacher``), as runs record it; ``None`` without one."""
    if args.teacher is None:
        return None
    return {'teacher': args.teacher, 'weight': args.kd_weight, 'temperature': args.kd_temperature}


def jitter_record(args: argparse.Namespace) -> dict:
    """The training ROIs' box jitter (``--jitter``, else TrainConfig's), as runs record it."""
    return dict(zip(DEFAULT_JITTER, args.jitter)) if args.jitter else dict(DEFAULT_JITTER)


def detector_record(args: argparse.Namespace) -> dict | None:
    """The detector of the detector-box scores (``--detector``, ``--conf``); ``None`` without one."""
    return None if args.detector is None else {'detector': Path(args.detector).name, 'conf': args.conf}


def detector_of(args: argparse.Namespace):
    """``--detector`` loaded by rhis eval's protocol (at most 100 persons per image: its --max-det, COCO's maxDets);
    loaded before anything trains, so a bad one stops the command with one line."""
    try:
        return load_detector(args.detector, conf=args.conf, max_det=100)
    except (FileNotFoundError, ValueError, ImportError) as error:
        raise SystemExit(f'--detector: {error}') from None


def init_seed(contender: str, seed: int) -> int:
    """A seed for the contender's initial weights that depends on its name and the run's seed only."""
    return int(hashlib.sha256(f'{contender}:{seed}'.encode()).hexdigest()[:8], 16)


def latency_ms(model: RHIS, size: tuple[int, int], device: str = 'cpu', rois: int = 10) -> float:
    images = torch.rand(1, 3, *size, device=device)
    x1 = torch.linspace(0.0, 0.7, rois)
    boxes = torch.stack([torch.zeros(rois), x1, torch.full((rois,), 0.2), x1 + 0.25, torch.full((rois,), 0.9)], 1)
    model.eval()
    sync = torch.cuda.synchronize if str(device).startswith('cuda') else None
    with torch.inference_mode():
        return 1000 * median_latency(lambda: model(images, boxes.to(device)), warmup=1, repeats=5, sync=sync)


def gmac(model: RHIS, size: tuple[int, int]) -> dict:
    """The contender's cost at inference: GMAC per person (ROI) and of the people-seg UNet per frame of ``size``."""
    cost = measure_complexity(model, size)
    return {'gmac_per_roi': round(cost.macs_per_roi / 1e9, 4), 'unet_gmac': round(cost.macs_per_image / 1e9, 4)}


def unet_architecture(contender: str, args: argparse.Namespace) -> tuple:
    """What makes two contenders' people-seg UNets interchangeable: encoder, decoder widths and working size."""
    cfg = build_rhis(preset_of(contender), **model_options(args)).cfg
    return cfg.unet_encoder, cfg.unet_decoder_channels, cfg.working_size


def peopleseg_weights(args: argparse.Namespace, contenders: list[str], out_dir: Path) -> dict[str, str]:
    """Each contender's frozen UNet: the starter's or a checkpoint for all of them, or one trained here per UNet
    architecture (same data, iterations and seed, encoder from ImageNet where the offline weights exist, as the
    starter's; saved in ``out_dir``), so that contenders whose UNets differ (a
    lighter decoder, another working size) are compared with UNets trained alike."""
    architectures = {c: unet_architecture(c, args) for c in contenders}
    if args.peopleseg != 'train':
        if len(set(architectures.values())) != 1:
            raise SystemExit('the contenders use different people-seg UNets (encoder, decoder widths or working size): '
                             'one set of weights cannot serve them all; use --peopleseg train (one UNet per '
                             'architecture, trained alike) or bench them in separate runs')
        starter = preset_config(STARTER_PRESET)
        unfit = [c for c, a in architectures.items() if a[:2] != (starter.unet_encoder, starter.unet_decoder_channels)]
        if args.peopleseg == STARTER and unfit:
            raise SystemExit(f"--peopleseg starter: the starter's UNet ({STARTER_PRESET}'s decoder widths "
                             f"{starter.unet_decoder_channels}) does not fit {', '.join(unfit)}; use --peopleseg train "
                             '(one UNet per architecture, trained here) or a checkpoint of their UNet')
        return dict.fromkeys(contenders, args.peopleseg)
    paths = {}
    for architecture in dict.fromkeys(architectures.values()):
        encoder, decoder, working = architecture
        path = out_dir / f"peopleseg_{encoder.split('_')[-1]}_{'-'.join(map(str, decoder))}_{working}.pth"
        if not path.is_file():
            torch.manual_seed(0)
            unet = PeopleSegUNet(encoder, frozen=False, decoder_channels=decoder)
            if imagenet_weights_name(unet.encoder_name):     # the starter's recipe: encoder from ImageNet
                load_imagenet_weights(unet, imagenet_weights_name(unet.encoder_name))
            train_set = coco_person_dataset(args.train, (working, working), args.sources)
            train_peopleseg(unet, train_set, TrainConfig(iters=args.peopleseg_iters, lr=1e-3,
                                                         batch_size=args.batch_size, log_every=50), device=args.device)
            path.parent.mkdir(parents=True, exist_ok=True)
            torch.save(unet.state_dict(), path)
        paths[architecture] = str(path)
    return {c: paths[a] for c, a in architectures.items()}


def previous_run(path: Path, args: argparse.Namespace) -> dict:
    """The record of an earlier run of this (contender, seed) in ``path`` ({} if none); one made with other model
    options (``--model-options``, ``--working-size``) or another teacher stops the command instead of mixing into its
    summary."""
    done = json.loads(path.read_text()) if path.is_file() else {}
    options = json.loads(json.dumps(model_options(args)))      # as a record holds them (tuples: lists)
    if done.get('model_options', options) != options:
        raise SystemExit(f"{path} was made with model options {done['model_options']}, not {options}: use another "
                         '--out-dir')
    if done and done.get('distillation') != distillation_record(args):
        raise SystemExit(f"{path} was made with distillation {done.get('distillation')}, not "
                         f'{distillation_record(args)}: use another --out-dir')
    jitter = done.get('jitter', DEFAULT_JITTER)
    if done and jitter != jitter_record(args):          # records from before the option used the default
        raise SystemExit(f'{path} was made with box jitter {jitter}, not {jitter_record(args)}: use another --out-dir')
    if done and done.get('detector') != detector_record(args):
        raise SystemExit(f"{path} was scored with detector {done.get('detector')}, not {detector_record(args)}: use "
                         'another --out-dir')
    return done


def run_one(args: argparse.Namespace, contender: str, seed: int, unet: str, train_set, vals: dict,
            path: Path, detector=None) -> dict:
    """Trains one contender with one seed, scoring it at every curve point (on GT boxes, and on ``detector``'s boxes
    where given); writes ``path`` as it goes."""
    torch.manual_seed(init_seed(contender, seed))
    preset = preset_of(contender)
    model = build_rhis(preset, pretrained=imagenet_start(contender), peopleseg_weights=unet, **model_options(args))
    device_name = torch.cuda.get_device_name(args.device) if str(args.device).startswith('cuda') else 'cpu'
    record = {'contender': contender, 'seed': seed, 'preset': preset, 'model_options': model_options(args),
              'distillation': distillation_record(args), 'jitter': jitter_record(args),
              'detector': detector_record(args), 'imagenet': imagenet_start(contender),
              'loss': type(loss_of(contender)).__name__ if loss_of(contender) else None, 'curve': {},
              'train_seconds': {}, 'device': device_name, 'complete': False}
    start = time.perf_counter()

    def score(iterations: int) -> None:
        if iterations not in args.iters and loss_of(contender) is not None:
            return
        record['train_seconds'][str(iterations)] = round(time.perf_counter() - start, 1)
        backend = RHISBackend.from_model(model, args.device)
        record['curve'][str(iterations)] = {name: evaluate_rhis(backend, dataset) for name, dataset in vals.items()}
        if detector is not None:
            record.setdefault('detector_curve', {})[str(iterations)] = {
                name: evaluate_rhis(backend, dataset, detector) for name, dataset in vals.items()}
        model.train()
        write_json(path, record)
        ap = ', '.join(f"{100 * m['segm_AP']:.1f}" for m in record['curve'][str(iterations)].values())
        print(f'{contender} seed {seed} @ {iterations}: mask AP {ap}', flush=True)

    loss = loss_of(contender)
    if loss is None:
        score(0)
    else:
        jitter = jitter_record(args)
        cfg = TrainConfig(iters=args.iters[-1], batch_size=args.batch_size, lr=args.lr, max_rois_per_image=args.max_rois,
                          seed=seed, log_every=50, num_workers=args.workers,
                          jitter_scale=jitter['scale'], jitter_shift=jitter['shift'],
                          copy_paste=COPY_PASTE_PROBABILITY if contender.endswith(COPY_PASTE) else 0.0)
        teacher = None if args.teacher is None else Distillation(load_rhis(args.teacher), args.kd_weight,
                                                                 args.kd_temperature)
        train_rhis(model, train_set, cfg, loss_fn=loss, device=args.device, on_step=score, distillation=teacher)
        save_rhis(model.cpu(), path.with_suffix('.pth'), contender=contender, seed=seed)
    record['complete'] = True
    write_json(path, record)
    return record


def summarise(records: dict[str, list[dict]], latency: dict[str, float], cost: dict[str, dict]) -> dict:
    """Mean +- sd over seeds, per contender, curve point and val set; ``latency`` in ms and ``cost`` (GMAC) per
    contender."""
    summary = {}
    for contender, runs in records.items():
        row = {'seeds': [r['seed'] for r in runs], 'devices': sorted({r.get('device', 'cpu') for r in runs}),
               'latency_ms_10_rois': latency[contender], **cost[contender], 'curve': {}}
        for point in runs[0]['curve']:
            row['curve'][point] = {}
            for val in runs[0]['curve'][point]:
                metrics = [r['curve'][point][val] for r in runs]
                cell = {}
                for key in (*METRICS, 'unet_iou'):
                    cell.update(mean_sd(key, [m[key] for m in metrics]))
                cell.update(instances=metrics[0]['instances'], occluded_instances=metrics[0]['occluded_instances'])
                row['curve'][point][val] = cell
        if all('detector_curve' in r for r in runs):
            row['detector_curve'] = {point: {val: mean_sd_cells([r['detector_curve'][point][val] for r in runs],
                                                                 DETECTOR_METRICS)
                                             for val in runs[0]['detector_curve'][point]}
                                     for point in runs[0]['detector_curve']}
        summary[contender] = row
    return summary


def mean_sd_cells(metrics: list[dict], keys: tuple[str, ...]) -> dict:
    """Mean +- sd over seeds of each of ``keys`` (those the records hold)."""
    cell = {}
    for key in keys:
        if all(m.get(key) is not None for m in metrics):
            cell.update(mean_sd(key, [m[key] for m in metrics]))
    return cell


def print_tables(summary: dict, vals: list[str]) -> None:
    def cell(c: dict, key: str, scale: float = 100) -> str:
        return f"{scale * c[key]:.1f} +- {scale * c[key + '_sd']:.1f}" if scale == 100 else \
            f"{c[key]:.3f} +- {c[key + '_sd']:.3f}"

    for val in vals:
        print(f'\nGT boxes, {val} (mask AP etc. in %, mean +- sd over seeds; target IoU in ROI space)')
        print('| contender | iterations | seeds | mask AP | AP50 | AP75 | AP occl. | target IoU | UNet IoU |')
        print('|---|---|---|---|---|---|---|---|---|')
        for contender, row in summary.items():
            for point, cells in row['curve'].items():
                c = cells[val]
                print(f"| {contender} | {point} | {len(row['seeds'])} | {cell(c, 'segm_AP')} | {cell(c, 'segm_AP50')} | "
                      f"{cell(c, 'segm_AP75')} | {cell(c, 'segm_AP_occluded')} | {cell(c, 'target_iou', 1)} | "
                      f"{c['unet_iou']:.3f} |")
        first = next(iter(summary.values()))['curve']
        c = next(iter(first.values()))[val]
        print(f"({c['instances']} persons, {c['occluded_instances']} occluded: >= {OCCLUDED:.0%} of another person "
              'inside their box)')
        print_detector_table(summary, val)


def print_detector_table(summary: dict, val: str) -> None:
    """The detector-box scores of ``val`` (contenders scored with ``--detector``)."""
    rows = [(contender, point, cells[val]) for contender, row in summary.items()
            for point, cells in row.get('detector_curve', {}).items()]
    if not rows:
        return
    print(f"\ndetector boxes, {val} (box AP {100 * rows[0][2]['bbox_AP']:.1f}; matched persons' mask IoU on the "
          "detector's / their GT boxes)")
    print('| contender | iterations | mask AP | AP75 | AP occl. | mask AP / box AP | mask IoU det. / GT boxes |')
    print('|---|---|---|---|---|---|---|')
    for contender, point, c in rows:
        print(f"| {contender} | {point} | {100 * c['segm_AP']:.1f} +- {100 * c['segm_AP_sd']:.1f} | "
              f"{100 * c['segm_AP75']:.1f} +- {100 * c['segm_AP75_sd']:.1f} | "
              f"{100 * c['segm_AP_occluded']:.1f} +- {100 * c['segm_AP_occluded_sd']:.1f} | "
              f"{c['mask_box_ratio']:.2f} +- {c['mask_box_ratio_sd']:.2f} | "
              f"{c['matched_mask_iou']:.3f} / {c['matched_mask_iou_gt_box']:.3f} |")


def plot(summary: dict, val: str, path: str, latency_size: list[int]) -> None:
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.4, 4.2), dpi=120)
    for name, row in summary.items():
        final = row['curve'][list(row['curve'])[-1]][val]
        x, y = row['latency_ms_10_rois'], 100 * final['segm_AP']
        ax.errorbar(x, y, yerr=100 * final['segm_AP_sd'], fmt='o', capsize=3)
        ax.annotate(name, (x, y), fontsize=7, xytext=(4, 4), textcoords='offset points')
    ax.set_xscale('log')
    ax.set_xlabel(f'PyTorch CPU latency, 10 ROIs on {latency_size[0]}x{latency_size[1]} (ms)')
    ax.set_ylabel('mask AP on GT boxes (%)')
    ax.set_title(f'{val} (mean +- sd over seeds)', fontsize=9)
    ax.grid(True, which='both', alpha=0.3)
    fig.tight_layout()
    fig.savefig(path)


def main(argv: list[str] | None = None) -> dict:
    args = parse_args(argv)
    torch.set_num_threads(args.threads)
    out_dir = Path(args.out_dir)
    detector = None if args.detector is None else detector_of(args)
    unets = peopleseg_weights(args, args.contenders, out_dir)
    size = (args.image_size, args.image_size)
    train_set = coco_person_dataset(args.train, size, args.sources)
    vals = datasets_by_spec(args.val)
    records: dict[str, list[dict]] = {}
    for contender in args.contenders:
        for seed in args.seeds:
            path = out_dir / 'runs' / f'{contender}_seed{seed}.json'
            done = previous_run(path, args)
            points = {'0'} if build_family(contender) in UNTRAINED else {str(i) for i in args.iters}
            if not done.get('complete') or set(done['curve']) != points:
                print(f'== {contender}, seed {seed}', flush=True)
                done = run_one(args, contender, seed, unets[contender], train_set, vals, path, detector)
            records.setdefault(contender, []).append(done)
    # Latency depends on the architecture alone: measured here, on this machine's CPU, wherever the runs trained.
    models = {c: build_rhis(preset_of(c), peopleseg_weights='random', **model_options(args)) for c in records}
    latency = {c: latency_ms(model, tuple(args.latency_size)) for c, model in models.items()}
    cost = {c: gmac(model, tuple(args.latency_size)) for c, model in models.items()}
    summary = {'command': 'python tools/bench_quality.py ' + shlex.join(argv if argv is not None else sys.argv[1:]),
               'train': args.train, 'val': args.val, 'peopleseg': unets,
               'image_size': args.image_size, 'working_size': args.working_size,
               'model_options': args.model_options, 'distillation': distillation_record(args),
               'jitter': jitter_record(args), 'detector': detector_record(args),
               'batch_size': args.batch_size, 'max_rois': args.max_rois,
               'threads': args.threads, 'latency_size': list(args.latency_size), 'latency_machine': machine_description(),
               'contenders': summarise(records, latency, cost)}
    write_json(out_dir / 'summary.json', summary)
    print_tables(summary['contenders'], args.val)
    if args.plot:
        Path(args.plot).parent.mkdir(parents=True, exist_ok=True)
        plot(summary['contenders'], args.val[0], args.plot, summary['latency_size'])
    return summary


if __name__ == '__main__':
    main(sys.argv[1:])
