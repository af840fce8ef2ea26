#!/usr/bin/env python
"""Exports an RHIS preset or checkpoint to ONNX (RHIS contract), with a JSON sidecar next to it.

    python tools/export_onnx.py --checkpoint work_dirs/rhis.pth --image-size 480 640 --out rhis_b0.onnx
    python tools/export_onnx.py --preset rhis_b0_64x48 --out rhis_b0_random.onnx
"""
import argparse
import sys

from rhis_plugin.deploy import export_onnx
from rhis_plugin.models import build_rhis, list_presets, load_rhis


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument('--checkpoint', help='an RHIS checkpoint (save_rhis / tools/train_rhis.py)')
    source.add_argument('--preset', choices=list_presets(), help='a preset with random weights (for tests)')
    parser.add_argument('--out', required=True)
    parser.add_argument('--image-size', type=int, nargs=2, default=(480, 640), metavar=('H', 'W'))
    parser.add_argument('--dynamic-image', action='store_true', help='dynamic H and W instead of a fixed size')
    parser.add_argument('--opset', type=int, default=17)
    args = parser.parse_args()
    try:
        model = load_rhis(args.checkpoint, aux_heads=False) if args.checkpoint else \
            build_rhis(args.preset, aux_heads=False)
        path = export_onnx(model, args.out, tuple(args.image_size), args.opset, args.dynamic_image)
    except (FileNotFoundError, ValueError) as error:
        print(f'error: {error}', file=sys.stderr)
        return 2
    print(f'wrote {path} and {path}.json')
    return 0


if __name__ == '__main__':
    sys.exit(main())
