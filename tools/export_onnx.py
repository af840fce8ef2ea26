#!/usr/bin/env python
"""Exports an RHIS preset or checkpoint to ONNX (RHIS contract), with a JSON sidecar next to it.

    python tools/export_onnx.py --checkpoint starter --out rhis_starter.onnx      # the bundled starter model
    python tools/export_onnx.py --checkpoint work_dirs/rhis.pth --out rhis.onnx   # ours, or an mmdet RHIS checkpoint
    python tools/export_onnx.py --preset rhis_lite0_64x48 --out rhis_random.onnx  # random weights (for tests)
    python tools/export_onnx.py --checkpoint starter --quantize int8 --out rhis_starter_int8.onnx
    python tools/export_onnx.py --checkpoint starter --quantize fp16 --out rhis_starter_fp16.onnx   # for GPUs
    python tools/export_onnx.py --checkpoint work_dirs/rhis.pth --detector yolo11n.onnx --out yolo11n_rhis.onnx

A checkpoint whose frozen people-seg UNet was never loaded or trained is refused unless --allow-random; the UNet's
origin goes into the file's metadata_props (and the JSON sidecar), where rhis predict reads it.

With ``--detector`` (an Ultralytics export made with ``nms=True``, or an RT-DETR / D-FINE / DEIM export) the
detector and RHIS become one file: frame in; boxes, scores, labels and ROI masks out (rhis_plugin.deploy.end_to_end).
"""
import argparse
import sys

from rhis_plugin.deploy import export_end_to_end, export_onnx
from rhis_plugin.models import build_rhis, list_presets, rhis_from_weights


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument('--checkpoint', help="an RHIS checkpoint (save_rhis, tools/train_rhis.py, a joint Ultralytics "
                                             "run's rhis.pth, an mmdet RHIS checkpoint) or 'starter'")
    source.add_argument('--preset', choices=list_presets(),
                        help='a preset with random weights, on purpose (for tests; the sidecar says so)')
    parser.add_argument('--out', required=True)
    parser.add_argument('--image-size', type=int, nargs=2, metavar=('H', 'W'),
                        help='a fixed input size (default: any frame size; the graph letterboxes to the working size)')
    parser.add_argument('--opset', type=int, default=18)
    parser.add_argument('--quantize', choices=['int8', 'fp16'], default=None,
                        help="int8: dynamic quantisation of the convolutions' weights (measure it: slower than float32 "
                             'on the 2-core x86 CPU of the README); fp16: float16 weights and activations, for GPUs '
                             '(inputs and outputs stay float32)')
    parser.add_argument('--detector', help='merge this ONNX detector in front of RHIS (one end-to-end file)')
    parser.add_argument('--conf', type=float, default=0.25, help='with --detector: score threshold in the graph')
    parser.add_argument('--classes', type=int, nargs='+', default=[0],
                        help="with --detector: the detector's person labels (default 0)")
    parser.add_argument('--detector-size', type=int, nargs=2, metavar=('H', 'W'),
                        help="with --detector: the detector's input size when its graph does not fix it")
    parser.add_argument('--allow-random', action='store_true',
                        help='export a checkpoint whose frozen people-seg UNet is random (recorded as such)')
    args = parser.parse_args(argv)
    try:
        # The file records where the people-seg UNet came from; rhis predict refuses random ones unless asked.
        model = rhis_from_weights(args.checkpoint, allow_random=args.allow_random, source='export_onnx',
                                  aux_heads=False) if args.checkpoint else \
            build_rhis(args.preset, peopleseg_weights='random', aux_heads=False)
        size = args.image_size and tuple(args.image_size)
        if args.detector:
            path = export_end_to_end(model, args.detector, args.out, args.conf, args.classes,
                                     args.detector_size and tuple(args.detector_size), size)
        else:
            path = export_onnx(model, args.out, size, args.opset, quantize=args.quantize)
    except (FileNotFoundError, ValueError) as error:
        print(f'error: {error}', file=sys.stderr)
        return 2
    print(f'wrote {path} and {path}.json')
    return 0


if __name__ == '__main__':
    sys.exit(main())
