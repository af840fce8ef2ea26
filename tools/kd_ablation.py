#!/usr/bin/env python
"""Does distillation help? Trains a teacher briefly, then the same student with and without distillation for
the same iterations, and prints both students' validation metric.

    python tools/kd_ablation.py --stage peopleseg --data-root ../shared/data/pennfudan \
        --teacher-iters 600 --student-iters 400 --out kd_peopleseg.json
    python tools/kd_ablation.py --stage instance --data-root ../shared/data/pennfudan ...

Stage ``peopleseg``: UNet B7 teacher -> B0 student, metric binary IoU (plus Dice, precision, recall, AUROC).
Stage ``instance``: RHIS-B7 head -> RHIS-B0 head on GT boxes, metric COCO mask AP. The configs of each stage are
named in ``STAGES`` (configs/mmdet/peopleseg/, rhis/ and kd/).
``--data-root`` is a COCO-format folder with train/ and val/ (annotations.json + images/).
"""
from __future__ import annotations

import argparse
import json
import os.path as osp
import sys
import time
from pathlib import Path

import rhis_plugin.mmdet  # noqa: F401  (registers the plugin's modules)
from rhis_plugin.mmdet.runner import short_run_config, train_and_validate
from rhis_plugin.utils.benchmark import mean_sd, write_json

CONFIGS = osp.join(osp.dirname(osp.dirname(osp.abspath(__file__))), 'configs', 'mmdet')
STAGES = {
    'peopleseg': dict(teacher='peopleseg/peopleseg-unet_b7_1xb4-50e_coco-person-lb320.py',
                      student='peopleseg/peopleseg-unet_b0_1xb4-50e_coco-person-lb320.py',
                      distill='kd/kd_peopleseg-unet-b7-to-b0_1xb4-50e_coco-person-lb320.py',
                      teacher_key='model.teacher_checkpoint',
                      metrics=('peopleseg/iou', 'peopleseg/dice', 'peopleseg/precision', 'peopleseg/recall',
                               'peopleseg/auroc'), image_size=(320, 320)),
    'instance': dict(teacher='rhis/rhis-b7_gt-boxes_1xb4-36e_coco-person.py',
                     student='rhis/rhis-b0_gt-boxes_1xb4-36e_coco-person.py',
                     distill='kd/kd_rhis-b7-to-b0_gt-boxes_1xb4-36e_coco-person.py',
                     teacher_key='model.roi_head.teacher_checkpoint',
                     metrics=('coco/segm_mAP', 'coco/segm_mAP_50', 'coco/segm_mAP_75'), image_size=(640, 640)),
}


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--stage', choices=sorted(STAGES), default='peopleseg')
    parser.add_argument('--data-root', required=True, help='COCO-format folder with train/ and val/')
    parser.add_argument('--teacher-iters', type=int, default=600)
    parser.add_argument('--student-iters', type=int, default=400)
    parser.add_argument('--image-size', type=int, nargs=2, metavar=('W', 'H'),
                        help='Resize scale (default 320 320 for peopleseg: letterbox to 320; 640 640 for instance)')
    parser.add_argument('--batch-size', type=int, default=4)
    parser.add_argument('--lr', type=float, help='learning rate for every run (default: the configs\')')
    parser.add_argument('--kd-weight', type=float, default=0.5, help='a: share of the distillation term')
    parser.add_argument('--temperature', type=float, nargs=2, default=(10.0, 1.0), metavar=('T0', 'T1'))
    parser.add_argument('--schedule', default='cosine', help='temperature schedule kind')
    parser.add_argument('--teacher-checkpoint', help='skip teacher training and use these weights')
    parser.add_argument('--teacher-peopleseg', help='instance stage: trained people-seg UNet for the teacher RHIS')
    parser.add_argument('--student-peopleseg', help='instance stage: trained people-seg UNet for the students')
    parser.add_argument('--allow-random', action='store_true',
                        help='instance stage: train on a random frozen UNet where no --*-peopleseg is given (this then '
                             'measures distilling the head alone; the JSON records it)')
    parser.add_argument('--work-dir', default='work_dirs/kd_ablation')
    parser.add_argument('--num-workers', type=int, default=0)
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--out', help='write the results as JSON here')
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> dict:
    args = parse_args(argv)
    stage = STAGES[args.stage]
    unset = [f'--{who}-peopleseg' for who in ('teacher', 'student') if getattr(args, f'{who}_peopleseg') is None
             and not (who == 'teacher' and args.teacher_checkpoint)]
    if args.stage == 'instance' and unset and not args.allow_random:
        sys.exit(f"error: no people-seg UNet for the instance stage ({', '.join(unset)}): the heads would train on "
                 'a random frozen UNet. Give stage-1 weights, or --allow-random to measure distilling the head alone')
    size = tuple(args.image_size) if args.image_size else stage['image_size']
    common = dict(data_root=args.data_root, image_size=size, batch_size=args.batch_size, lr=args.lr,
                  num_workers=args.num_workers, seed=args.seed)
    results: dict = {'stage': args.stage, 'data_root': args.data_root, 'image_size': list(size),
                     'teacher_iters': args.teacher_iters, 'student_iters': args.student_iters,
                     'kd_weight': args.kd_weight, 'temperature': list(args.temperature), 'schedule': args.schedule,
                     'peopleseg': {'teacher': args.teacher_peopleseg, 'student': args.student_peopleseg,
                                   'random_allowed': args.allow_random}, 'runs': {}}

    def unet(path: str | None) -> dict:
        if args.stage != 'instance':
            return {}
        if path is None:
            print("note: no people-seg UNet given: the heads train on a random frozen UNet ('random', --allow-random)")
        return {'model.roi_head.peopleseg_checkpoint': path or 'random'}

    def run(name: str, config: str, iters: int, options: dict | None = None) -> str:
        start = time.perf_counter()
        cfg = short_run_config(osp.join(CONFIGS, config), osp.join(args.work_dir, args.stage, name), iters,
                               cfg_options=options, **common)
        metrics, checkpoint = train_and_validate(cfg)
        results['runs'][name] = {'config': config, 'iters': iters, 'seconds': round(time.perf_counter() - start, 1),
                                 'metrics': {k: metrics[k] for k in stage['metrics'] if k in metrics}}
        return checkpoint

    teacher_checkpoint = args.teacher_checkpoint
    if teacher_checkpoint is None:
        teacher_checkpoint = run('teacher', stage['teacher'], args.teacher_iters, unet(args.teacher_peopleseg))
    results['teacher_checkpoint'] = teacher_checkpoint
    run('student', stage['student'], args.student_iters, unet(args.student_peopleseg))
    kd_hook = dict(type='DistillationScheduleHook', by_epoch=False,
                   temperature=dict(start=args.temperature[0], end=args.temperature[1], kind=args.schedule))
    options = {**unet(args.student_peopleseg), stage['teacher_key']: teacher_checkpoint,
               stage['teacher_key'].rsplit('.', 1)[0] + '.kd_weight': args.kd_weight}
    cfg_hooks = [kd_hook] + ([dict(type='BoundaryLossHook')] if args.stage == 'peopleseg' else [])
    options['custom_hooks'] = cfg_hooks
    run('student_kd', stage['distill'], args.student_iters, options)

    main_metric = stage['metrics'][0]
    print(f'\nKD ablation, stage {args.stage}: {main_metric} on {args.data_root}/val '
          f'({args.student_iters} student iterations, image {size[0]}x{size[1]})')
    print(f'{"run":<12} {"config":<32} {"iters":>6} {"seconds":>8} ' + ' '.join(f'{m.split("/")[-1]:>10}'
                                                                              for m in stage['metrics']))
    for name, run_result in results['runs'].items():
        values = ' '.join(f'{run_result["metrics"].get(m, float("nan")):>10.4f}' for m in stage['metrics'])
        print(f'{name:<12} {run_result["config"]:<32} {run_result["iters"]:>6} {run_result["seconds"]:>8.0f} {values}')
    gain = (results['runs']['student_kd']['metrics'][main_metric] - results['runs']['student']['metrics'][main_metric])
    results['kd_gain'] = gain
    print(f'distillation changes {main_metric} by {gain:+.4f}')
    if args.out:
        write_json(args.out, results)
        summary = summarise_seeds(Path(args.out).parent, args.stage)
        if summary is not None:
            print(f"over seeds {summary['seeds']}: distillation changes {main_metric} by "
                  f"{summary['kd_gain']:+.4f} +- {summary['kd_gain_sd']:.4f} ({Path(args.out).parent / 'summary.json'})")
    return results


def summarise_seeds(folder: Path, stage: str) -> dict | None:
    """Mean +- sd over the ``kd_<stage>_seed*.json`` runs in ``folder`` (more than one), into ``summary.json``:
    the per-run metrics and the gain, so that the README's figures come from a file."""
    runs = {int(p.stem.rsplit('seed', 1)[1]): json.loads(p.read_text())
            for p in sorted(folder.glob(f'kd_{stage}_seed*.json')) if p.stem.rsplit('seed', 1)[1].isdigit()}
    if len(runs) < 2:
        return None
    seeds = sorted(runs)
    summary: dict = {'stage': stage, 'seeds': seeds, 'runs': {}}
    for name in ('teacher', 'student', 'student_kd'):
        present = [runs[s]['runs'][name] for s in seeds if name in runs[s]['runs']]
        summary['runs'][name] = {'seeds': [s for s in seeds if name in runs[s]['runs']], 'metrics': {}}
        for metric in present[0]['metrics'] if present else []:
            summary['runs'][name]['metrics'].update(mean_sd(metric, [r['metrics'][metric] for r in present]))
    summary.update(mean_sd('kd_gain', [runs[s]['kd_gain'] for s in seeds]))
    summary['kd_gain_per_seed'] = [runs[s]['kd_gain'] for s in seeds]
    write_json(folder / 'summary.json', summary)
    return summary


if __name__ == '__main__':
    main(sys.argv[1:])
