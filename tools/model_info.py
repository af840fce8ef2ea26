#!/usr/bin/env python
"""Parameters and MACs per ROI for RHIS presets, ours and the reference architecture side by side."""
import argparse

from rhis_plugin.models import build_rhis, list_presets
from rhis_plugin.utils.complexity import measure_complexity

BASELINE = 'upstream_b0_64x48'


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument('--presets', nargs='*', default=list_presets(), choices=list_presets(), metavar='PRESET')
    parser.add_argument('--image-size', type=int, nargs=2, default=(480, 640), metavar=('H', 'W'),
                        help='image size for the per-image UNet MACs (default 480 640)')
    args = parser.parse_args()
    presets = list(dict.fromkeys([*args.presets, BASELINE]))
    rows = {name: measure_complexity(build_rhis(name), tuple(args.image_size)) for name in presets}
    base = rows[BASELINE].macs_per_roi
    header = f"{'preset':<20} {'params':>9} {'head params':>12} {'GMAC/ROI':>9} {'vs upstream_b0':>15} " \
             f"{'UNet GMAC/img':>14}"
    print(f'image {args.image_size[0]}x{args.image_size[1]}; MACs from torch FlopCounterMode, inference mode')
    print(header)
    print('-' * len(header))
    for name, c in rows.items():
        print(f'{name:<20} {c.params_total / 1e6:>8.2f}M {c.params_head / 1e6:>11.2f}M {c.macs_per_roi / 1e9:>9.3f} '
              f'{c.macs_per_roi / base:>14.3f}x {c.macs_per_image / 1e9:>14.2f}')


if __name__ == '__main__':
    main()
