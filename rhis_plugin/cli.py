"""The ``rhis`` command: ``rhis demo``, ``rhis predict`` and ``rhis eval``.

    rhis demo                                   # people in real photos, starter model, seconds on a CPU
    rhis demo --source photos/ --detector yolo11n.pt
    rhis demo --synthetic --iters 300           # short training on generated scenes, from a pretrained start
    rhis demo --train DIR --val DIR --iters 2000 --image-size 320
    rhis predict --detector yolo11n.pt --rhis rhis.pth --source images/ --out outputs/pred
    rhis predict --detector deim.onnx --rhis rhis_b0.onnx --source video.mp4 --out outputs/video --dilate 1
    rhis eval --data people/val --rhis rhis.pth                                   # GT boxes
    rhis eval --data people/val --rhis rhis.onnx --detector yolo11n.pt --out eval.json
"""
from __future__ import annotations

import argparse
import sys
from typing import Any, Sequence

from .weights import STARTER_PRESET

__all__ = ['main']


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog='rhis', description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest='command', required=True)

    demo = commands.add_parser('demo', help='segment the people in real photos (or train briefly: --synthetic, --train)')
    demo.add_argument('--out', default='outputs/demo')
    demo.add_argument('--source', help="image, folder or video (default: Ultralytics' bundled bus.jpg and zidane.jpg)")
    demo.add_argument('--detector', default='auto',
                      help="'auto' (yolo11n.pt: the cached file, or Ultralytics downloads it when online; OpenCV's HOG "
                           "people detector only when that fails, with a line saying so), 'hog', or a detector file "
                           'as for rhis predict')
    demo.add_argument('--rhis', default='starter', help="RHIS weights (default: the bundled starter model)")
    demo.add_argument('--synthetic', action='store_true',
                      help='instead: train briefly on generated scenes, then score and draw the held-out ones')
    demo.add_argument('--train', help='instead: train briefly on this COCO person folder (with --val)')
    demo.add_argument('--val', help='COCO person folder for evaluation (with --train)')
    demo.add_argument('--preset', default=STARTER_PRESET,
                      help="what --synthetic / --train train (default: the starter's, whose UNet --peopleseg puts in)")
    demo.add_argument('--init', default=None,
                      help="with --synthetic / --train: fine-tune this whole model ('starter' or an RHIS checkpoint) "
                           'instead of training --preset from ImageNet')
    demo.add_argument('--peopleseg', default='starter',
                      help="people-seg UNet for --synthetic / --train: a checkpoint, 'starter' or 'random'")
    demo.add_argument('--iters', type=int, default=300)
    demo.add_argument('--minutes', type=float, default=None, help='stop training after this many minutes')
    demo.add_argument('--amp', action='store_true',
                      help='mixed precision for --synthetic / --train: float16 on CUDA, bfloat16 on the CPU')
    demo.add_argument('--num-train', type=int, default=200)
    demo.add_argument('--num-val', type=int, default=40)
    demo.add_argument('--image-size', type=int, default=128)
    demo.add_argument('--device', default='cpu')

    predict = commands.add_parser('predict', help='detector boxes -> RHIS masks for images, folders or videos')
    predict.add_argument('--detector', required=True,
                         help='.pt/.yaml (Ultralytics), .onnx (DETR export: RT-DETR, D-FINE, DEIM; a raw YOLOX export; or an Ultralytics '
                              'export), .py (mmdet config) or .json (COCO detections)')
    predict.add_argument('--detector-checkpoint', help='mmdet checkpoint, or the COCO annotation file for .json')
    predict.add_argument('--rhis', default='starter',
                         help="RHIS checkpoint (.pth, also an mmdet RHIS checkpoint) or ONNX file; 'starter' (default): "
                              "the bundled starter model; 'random': random weights, on purpose")
    predict.add_argument('--allow-random', action='store_true',
                         help='accept a model whose frozen people-seg UNet was never loaded or trained')
    predict.add_argument('--source', required=True, help='image, folder of images, or video')
    predict.add_argument('--out', required=True)
    predict.add_argument('--conf', type=float, default=0.25)
    predict.add_argument('--max-det', type=int, default=300,
                         help="at most this many persons per image, best first (Ultralytics' max_det)")
    predict.add_argument('--classes', type=int, nargs='+', default=None,
                         help='detector labels that are people (default: the person class; category 1 for .json)')
    predict.add_argument('--label-space', choices=('coco80', 'coco91'), default='coco80',
                         help='labels of a DETR-format ONNX detector: 0-based COCO classes (person = 0, default) or '
                              'COCO category ids (person = 1, exports with remap_mscoco_category=True)')
    _postprocess_arguments(predict)
    predict.add_argument('--binary', action='store_true', help='one person mask from the people-seg UNet')
    predict.add_argument('--device', default='cpu')
    predict.add_argument('--no-progress', action='store_true')
    predict.add_argument('--resume', action='store_true',
                         help='go on with the run in --out: skip the images it finished, add the rest')
    predict.add_argument('--overwrite', action='store_true',
                         help="replace the outputs of an earlier run in --out (without it, or --resume, they are "
                              'kept and the run refuses)')
    predict.add_argument('--recursive', action='store_true', help='also the images in subfolders of --source')
    predict.add_argument('--strict', action='store_true',
                         help='stop at the first unreadable image (exit 2, nothing written) instead of skipping it')

    evaluate = commands.add_parser('eval', help='mask AP (pycocotools, original size) of RHIS on COCO person folders')
    evaluate.add_argument('--data', nargs='+', required=True,
                          help='COCO person folders (annotations.json + images/), each PATH or PATH:train|val')
    evaluate.add_argument('--sources', nargs='+', default=None,
                          help="keep images whose 'source' field starts so (folders without the field keep all)")
    evaluate.add_argument('--rhis', default='starter', help='RHIS checkpoint (.pth) or ONNX file, or starter')
    evaluate.add_argument('--allow-random', action='store_true',
                          help='accept a model whose frozen people-seg UNet was never loaded or trained')
    evaluate.add_argument('--detector', default=None,
                          help='boxes from this detector (as for rhis predict) instead of the GT boxes')
    evaluate.add_argument('--detector-checkpoint', help='mmdet checkpoint, or the COCO annotation file for .json')
    evaluate.add_argument('--detector-masks', action='store_true',
                          help="score the detector's own masks on the same boxes instead of RHIS's (an Ultralytics "
                               'segmentation .pt or an mmdet instance segmentation config); --rhis is not used')
    evaluate.add_argument('--conf', type=float, default=0.05, help='detector score threshold')
    evaluate.add_argument('--max-det', type=int, default=100,
                          help="at most this many persons per image, best first (COCO's maxDets)")
    evaluate.add_argument('--classes', type=int, nargs='+', default=None, help='detector labels that are people')
    evaluate.add_argument('--label-space', choices=('coco80', 'coco91'), default='coco80')
    _postprocess_arguments(evaluate)
    evaluate.add_argument('--out', default=None, help='write the metrics to this JSON file')
    evaluate.add_argument('--device', default='cpu')
    return parser


def _postprocess_arguments(parser: argparse.ArgumentParser) -> None:
    """The paste-back options (:class:`~rhis_plugin.postprocess.PostprocessConfig`), one spelling for every command."""
    parser.add_argument('--threshold', type=float, default=0.5, help='mask probability threshold')
    parser.add_argument('--dilate', type=int, default=0, help='grow every mask by this many pixels')
    parser.add_argument('--smooth', choices=('guided', 'gaussian'), default=None, help='edge smoothing')
    parser.add_argument('--exclusive', action=argparse.BooleanOptionalAction, default=True,
                        help='each pixel goes to at most one person, the highest-scoring detection that claims it '
                             '(default); --no-exclusive lets masks overlap, as mmdet and pycocotools take them')


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        if args.command == 'demo':
            return _demo(args)
        from .deploy.detectors import load_detector
        from .deploy.pipeline import RHISBackend, run_predict
        from .postprocess import PostprocessConfig
        postprocess = PostprocessConfig(threshold=args.threshold, dilation=args.dilate, smoothing=args.smooth,
                                        exclusive=args.exclusive)
        if args.command == 'eval':
            return _eval(args, postprocess)
        detector = load_detector(args.detector, args.detector_checkpoint, args.conf, args.classes, args.device,
                                 args.label_space, max_det=args.max_det)
        summary = run_predict(detector, RHISBackend(args.rhis, args.device, args.allow_random), args.source, args.out,
                              postprocess, binary=args.binary, progress=not args.no_progress, strict=args.strict,
                              resume=args.resume, overwrite=args.overwrite, recursive=args.recursive)
    except (FileNotFoundError, ValueError, ImportError) as error:
        print(f'rhis: error: {error}', file=sys.stderr)
        return 2
    note = f", {summary['frames_without_detections']} without any detection" \
        if summary['frames_without_detections'] else ''
    if summary['skipped']:
        note += f", {len(summary['skipped'])} unreadable file(s) skipped"
    if getattr(detector, 'dropped', 0):
        note += f', {detector.dropped} invalid detector box(es) dropped (NaN/inf, empty or outside the image)'
    if summary['resumed']:
        note += f", {summary['resumed']} done in the earlier run"
    if summary['interrupted']:
        print(f"rhis: interrupted after {summary['frames']} frames{note}; {summary['out_dir']}/results.json holds "
              'every finished frame; rerun with --resume to go on', file=sys.stderr)
        return 130
    if summary.get('video'):
        note += f"; annotated video {summary['video']}"
    print(f"rhis: {summary['frames']} frames, {summary['instances']} masks{note}; wrote {summary['out_dir']}/"
          '{overlays/, masks/, results.json}')
    return 0


def _eval(args: argparse.Namespace, postprocess: Any) -> int:
    from .data.coco_dataset import coco_person_dataset
    from .deploy.detectors import load_detector
    from .deploy.evaluate import evaluate_rhis, format_evaluation, write_evaluation
    from .deploy.pipeline import RHISBackend
    dataset = coco_person_dataset(args.data, sources=args.sources)
    if args.detector_masks and args.detector is None:
        raise ValueError('--detector-masks needs --detector')
    backend = None if args.detector_masks else RHISBackend(args.rhis, args.device, args.allow_random)
    detector = None if args.detector is None else load_detector(
        args.detector, args.detector_checkpoint, args.conf, args.classes, args.device, args.label_space,
        masks=args.detector_masks, max_det=args.max_det)
    metrics = evaluate_rhis(backend, dataset, detector, postprocess, detector_masks=args.detector_masks)
    print(format_evaluation(metrics))
    if args.out:
        print(f'rhis: wrote {write_evaluation(metrics, args.out)}')
    return 0


def _demo(args: argparse.Namespace) -> int:
    from .demo import run_demo, run_training_demo
    if bool(args.train) != bool(args.val):
        raise ValueError('--train and --val go together')
    if args.synthetic or args.train:
        run_training_demo(args.out, args.train, args.val, args.preset, args.iters, args.minutes, args.num_train,
                          args.num_val, args.image_size, device=args.device, peopleseg=args.peopleseg, init=args.init,
                          amp=args.amp)
    else:
        run_demo(args.out, args.source, args.detector, args.rhis, device=args.device)
    return 0


if __name__ == '__main__':
    sys.exit(main())
