"""Synthetic people scenes with exact instance masks, written as a COCO instance dataset.

Each scene has a textured background with person-like clutter (poles, blobs, boxes) and several figures
built from a head, a torso and jointed limbs with random pose, size, colour and texture. Figures are placed
so that they often overlap: the visible mask of a figure is what is left after the figures in front of it
are drawn, so "another person inside my box" is common, as in real street scenes.

Everything is deterministic given the seed: scene ``i`` depends only on ``(seed, i)``.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageFilter

from .coco import instance_annotation, write_coco

__all__ = ['SceneConfig', 'Scene', 'make_scene', 'generate_dataset']


@dataclass(frozen=True)
class SceneConfig:
    """Parameters of a synthetic scene.

    Args:
        height, width: image size in pixels.
        min_persons, max_persons: number of figures drawn per scene (inclusive range).
        min_person_height, max_person_height: figure height as a fraction of the image height.
        overlap_prob: probability that a new figure is placed next to an existing one so that they overlap.
        min_visible_fraction: figures whose visible part is smaller than this fraction of their full area
            are left out of the scene (not drawn), so every drawn person pixel belongs to an annotation.
        min_visible_pixels: the same, as an absolute number of pixels.
        clutter: number of background distractor shapes.
    """
    height: int = 240
    width: int = 320
    min_persons: int = 2
    max_persons: int = 5
    min_person_height: float = 0.35
    max_person_height: float = 0.9
    overlap_prob: float = 0.5
    min_visible_fraction: float = 0.15
    min_visible_pixels: int = 40
    clutter: int = 8

    def __post_init__(self) -> None:
        if self.height < 32 or self.width < 32:
            raise ValueError(f'image size must be at least 32x32, got {self.height}x{self.width}')
        if not 1 <= self.min_persons <= self.max_persons:
            raise ValueError(f'need 1 <= min_persons <= max_persons, got {self.min_persons}, {self.max_persons}')
        if not 0 < self.min_person_height <= self.max_person_height <= 1.5:
            raise ValueError('need 0 < min_person_height <= max_person_height <= 1.5')
        if not 0 <= self.overlap_prob <= 1:
            raise ValueError(f'overlap_prob must be in [0, 1], got {self.overlap_prob}')


@dataclass
class Scene:
    """One rendered scene: ``image`` uint8 HxWx3 RGB and one visible boolean HxW mask per person."""
    image: np.ndarray
    masks: list[np.ndarray]


# ----------------------------------------------------------------------------- rasterisation primitives
def _grid(shape: tuple[int, int], box: tuple[float, float, float, float]):
    """Pixel-centre coordinates of the part of ``shape`` covered by ``box`` (x0, y0, x1, y1), and the slices."""
    h, w = shape
    x0, y0, x1, y1 = box
    c0, c1 = max(int(math.floor(x0)), 0), min(int(math.ceil(x1)) + 1, w)
    r0, r1 = max(int(math.floor(y0)), 0), min(int(math.ceil(y1)) + 1, h)
    if c0 >= c1 or r0 >= r1:
        return None
    ys, xs = np.mgrid[r0:r1, c0:c1].astype(np.float32) + 0.5
    return xs, ys, (slice(r0, r1), slice(c0, c1))


def _capsule(shape, p0, p1, radius: float) -> tuple[np.ndarray, tuple[slice, slice]] | None:
    """Pixels within ``radius`` of the segment p0-p1 (a limb)."""
    (ax, ay), (bx, by) = p0, p1
    g = _grid(shape, (min(ax, bx) - radius, min(ay, by) - radius, max(ax, bx) + radius, max(ay, by) + radius))
    if g is None:
        return None
    xs, ys, sl = g
    dx, dy = bx - ax, by - ay
    t = np.clip(((xs - ax) * dx + (ys - ay) * dy) / max(dx * dx + dy * dy, 1e-6), 0.0, 1.0)
    inside = (xs - ax - t * dx) ** 2 + (ys - ay - t * dy) ** 2 <= radius * radius
    return inside, sl


def _ellipse(shape, centre, rx: float, ry: float, angle: float) -> tuple[np.ndarray, tuple[slice, slice]] | None:
    cx, cy = centre
    r = max(rx, ry)
    g = _grid(shape, (cx - r, cy - r, cx + r, cy + r))
    if g is None:
        return None
    xs, ys, sl = g
    c, s = math.cos(angle), math.sin(angle)
    u = (xs - cx) * c + (ys - cy) * s
    v = -(xs - cx) * s + (ys - cy) * c
    return (u / rx) ** 2 + (v / ry) ** 2 <= 1.0, sl


def _convex_polygon(shape, points: np.ndarray) -> tuple[np.ndarray, tuple[slice, slice]] | None:
    """Pixels inside a convex polygon given counter-clockwise or clockwise."""
    g = _grid(shape, (*points.min(0), *points.max(0)))
    if g is None:
        return None
    xs, ys, sl = g
    area2 = np.sum(points[:, 0] * np.roll(points[:, 1], -1) - np.roll(points[:, 0], -1) * points[:, 1])
    sign = 1.0 if area2 >= 0 else -1.0
    inside = np.ones(xs.shape, dtype=bool)
    for (ax, ay), (bx, by) in zip(points, np.roll(points, -1, axis=0)):
        inside &= sign * ((bx - ax) * (ys - ay) - (by - ay) * (xs - ax)) >= 0
    return inside, sl


# ----------------------------------------------------------------------------- appearance
def _random_colour(rng: np.random.Generator, low: int = 20, high: int = 235) -> np.ndarray:
    return rng.integers(low, high, size=3).astype(np.float32)


def _skin_colour(rng: np.random.Generator) -> np.ndarray:
    tones = np.array([[241, 194, 167], [224, 172, 105], [198, 134, 66], [141, 85, 36], [92, 56, 32]], np.float32)
    return tones[rng.integers(len(tones))] + rng.normal(0, 8, 3).astype(np.float32)


def _texture(rng: np.random.Generator, xs: np.ndarray, ys: np.ndarray) -> np.ndarray:
    """A per-pixel brightness modulation: plain, stripes, checks or noise."""
    kind = rng.integers(4)
    if kind == 0:
        return np.zeros_like(xs)
    if kind == 1:
        period, phase, angle = rng.uniform(3, 9), rng.uniform(0, 2 * math.pi), rng.uniform(0, math.pi)
        return 25.0 * np.sign(np.sin((xs * math.cos(angle) + ys * math.sin(angle)) * 2 * math.pi / period + phase))
    if kind == 2:
        period = rng.uniform(4, 10)
        return 20.0 * (((xs // period) + (ys // period)) % 2 * 2 - 1)
    return rng.normal(0, 14, xs.shape).astype(np.float32)


def _paint(canvas: np.ndarray, mask: np.ndarray, sl, colour: np.ndarray, rng: np.random.Generator) -> None:
    xs, ys = np.meshgrid(np.arange(sl[1].start, sl[1].stop), np.arange(sl[0].start, sl[0].stop))
    shade = _texture(rng, xs.astype(np.float32), ys.astype(np.float32))
    region = canvas[sl]
    region[mask] = colour + shade[mask][:, None]


def _background(rng: np.random.Generator, cfg: SceneConfig) -> np.ndarray:
    h, w = cfg.height, cfg.width
    horizon = int(h * rng.uniform(0.3, 0.6))
    top, bottom = _random_colour(rng, 60, 230), _random_colour(rng, 30, 200)
    ramp = np.linspace(0.85, 1.15, h, dtype=np.float32)[:, None, None]
    img = np.empty((h, w, 3), np.float32)
    img[:horizon] = top
    img[horizon:] = bottom
    img *= ramp
    # Low-frequency illumination, upsampled from a coarse random grid.
    coarse = rng.uniform(0.75, 1.25, size=(4, 5)).astype(np.float32)
    light = np.asarray(Image.fromarray(coarse).resize((w, h), Image.BILINEAR))
    img *= light[..., None]
    shape = (h, w)
    for _ in range(cfg.clutter):
        kind = rng.integers(3)
        colour = _random_colour(rng)
        if kind == 0:   # building / box
            x0, y0 = rng.uniform(-0.1 * w, w), rng.uniform(-0.1 * h, horizon + 0.2 * h)
            bw, bh = rng.uniform(0.05, 0.4) * w, rng.uniform(0.05, 0.5) * h
            pts = np.array([[x0, y0], [x0 + bw, y0], [x0 + bw, y0 + bh], [x0, y0 + bh]], np.float32)
            drawn = _convex_polygon(shape, pts)
        elif kind == 1:  # pole: thin and tall, a person-like distractor
            x = rng.uniform(0, w)
            y1 = rng.uniform(0.6, 1.0) * h
            drawn = _capsule(shape, (x, y1 - rng.uniform(0.3, 0.8) * h), (x, y1), rng.uniform(1.5, 0.02 * w + 2))
        else:            # bush / blob
            drawn = _ellipse(shape, (rng.uniform(0, w), rng.uniform(horizon, h)),
                             rng.uniform(0.03, 0.15) * w, rng.uniform(0.03, 0.12) * h, rng.uniform(0, math.pi))
        if drawn is not None:
            _paint(img, drawn[0], drawn[1], colour, rng)
    return img


# ----------------------------------------------------------------------------- figures
@dataclass
class _Figure:
    feet_x: float
    feet_y: float
    height: float

    @property
    def width(self) -> float:
        return 0.45 * self.height


def _figure_parts(rng: np.random.Generator, fig: _Figure) -> list[tuple[str, str, tuple]]:
    """Body parts as (primitive, colour slot, geometry) in image coordinates, back to front."""
    h, fx, fy = fig.height, fig.feet_x, fig.feet_y
    build = rng.uniform(0.8, 1.25)                 # slim ... broad
    lean = rng.uniform(-0.06, 0.06)                # torso lean, fraction of height

    def pt(x: float, y: float) -> tuple[float, float]:  # body units (y up from the feet) -> pixels
        return fx + x * h, fy - y * h

    hip_y, shoulder_y = rng.uniform(0.47, 0.53), rng.uniform(0.77, 0.82)
    hip_half, shoulder_half = 0.075 * build, 0.115 * build
    torso = np.array([pt(-hip_half, hip_y), pt(hip_half, hip_y),
                      pt(shoulder_half + lean, shoulder_y), pt(-shoulder_half + lean, shoulder_y)], np.float32)
    parts: list[tuple[str, str, tuple]] = []

    def limb(origin, length_a, length_b, angle_a, bend, radius, slot) -> None:
        # Angles in radians from straight down; ``bend`` turns the lower segment.
        a = pt(*origin)
        b = (a[0] + math.sin(angle_a) * length_a * h, a[1] + math.cos(angle_a) * length_a * h)
        c = (b[0] + math.sin(angle_a + bend) * length_b * h, b[1] + math.cos(angle_a + bend) * length_b * h)
        parts.append(('capsule', slot, (a, b, radius * h)))
        parts.append(('capsule', slot if slot != 'shirt' else 'sleeve', (b, c, radius * 0.85 * h)))

    leg_r = 0.045 * build
    for side in (-1, 1):
        limb((side * 0.045 * build, hip_y), 0.26, 0.25, side * rng.uniform(-0.15, 0.45),
             -side * rng.uniform(0.0, 0.6), leg_r, 'pants')
    parts.append(('polygon', 'shirt', (torso,)))
    arm_r = 0.032 * build
    for side in (-1, 1):
        limb((side * (shoulder_half - 0.01) + lean, shoulder_y - 0.01), 0.17, 0.16,
             side * rng.uniform(0.05, 1.6), side * rng.uniform(-1.4, 0.2), arm_r, 'shirt')
    neck = pt(lean, shoulder_y)
    parts.append(('capsule', 'skin', (neck, pt(lean, shoulder_y + 0.05), 0.028 * h)))
    head_c = pt(lean * 1.2, shoulder_y + 0.11)
    parts.append(('ellipse', 'skin', (head_c, 0.052 * h, 0.068 * h, rng.uniform(-0.2, 0.2))))
    if rng.random() < 0.8:  # hair cap on the upper half of the head
        parts.append(('ellipse', 'hair', ((head_c[0], head_c[1] - 0.025 * h), 0.054 * h, 0.05 * h, 0.0)))
    return parts


def _draw_figure(canvas: np.ndarray | None, shape, rng: np.random.Generator, fig: _Figure) -> np.ndarray:
    """Rasterises a figure; paints it into ``canvas`` when given. Returns its full boolean mask."""
    palette = {'shirt': _random_colour(rng), 'pants': _random_colour(rng, 10, 160),
               'skin': _skin_colour(rng), 'hair': _random_colour(rng, 5, 90)}
    palette['sleeve'] = palette['shirt'] if rng.random() < 0.6 else palette['skin']
    full = np.zeros(shape, dtype=bool)
    for primitive, slot, geometry in _figure_parts(rng, fig):
        if primitive == 'capsule':
            drawn = _capsule(shape, *geometry)
        elif primitive == 'ellipse':
            drawn = _ellipse(shape, *geometry)
        else:
            drawn = _convex_polygon(shape, *geometry)
        if drawn is None:
            continue
        inside, sl = drawn
        full[sl] |= inside
        if canvas is not None:
            _paint(canvas, inside, sl, palette[slot], rng)
    return full


def _place_figures(rng: np.random.Generator, cfg: SceneConfig) -> list[_Figure]:
    h, w = cfg.height, cfg.width
    figures: list[_Figure] = []
    for _ in range(int(rng.integers(cfg.min_persons, cfg.max_persons + 1))):
        height = rng.uniform(cfg.min_person_height, cfg.max_person_height) * h
        feet_y = rng.uniform(max(height * 0.95, 0.55 * h), 1.05 * h)
        if figures and rng.random() < cfg.overlap_prob:
            other = figures[int(rng.integers(len(figures)))]
            feet_x = other.feet_x + rng.choice([-1, 1]) * rng.uniform(0.15, 0.6) * other.width
            feet_y = float(np.clip(other.feet_y + rng.uniform(-0.12, 0.12) * h, height * 0.9, 1.05 * h))
        else:
            feet_x = rng.uniform(0.05 * w, 0.95 * w)
        figures.append(_Figure(float(feet_x), float(feet_y), float(height)))
    # Painter's order: feet higher in the image are further away and drawn first.
    return sorted(figures, key=lambda f: f.feet_y)


def _visible_masks(full_masks: list[np.ndarray]) -> list[np.ndarray]:
    """Visible part of each mask given back-to-front order."""
    visible, covered = [], np.zeros_like(full_masks[0]) if full_masks else None
    for mask in reversed(full_masks):
        visible.append(mask & ~covered)
        covered |= mask
    return visible[::-1]


def make_scene(rng: np.random.Generator, cfg: SceneConfig = SceneConfig()) -> Scene:
    """Renders one scene. Persons too occluded or outside the image are not drawn at all."""
    shape = (cfg.height, cfg.width)
    figures = _place_figures(rng, cfg)
    # Each figure gets its own generator so its shape is the same in the sizing pass and the painting pass.
    seeds = rng.integers(0, 2**63 - 1, size=len(figures))
    full = [_draw_figure(None, shape, np.random.default_rng(s), f) for s, f in zip(seeds, figures)]
    visible = _visible_masks(full)
    keep = [i for i, (f, v) in enumerate(zip(full, visible))
            if v.sum() >= max(cfg.min_visible_pixels, cfg.min_visible_fraction * max(f.sum(), 1))]

    canvas = _background(rng, cfg)
    for i in keep:
        _draw_figure(canvas, shape, np.random.default_rng(seeds[i]), figures[i])
    canvas += rng.normal(0, 4, canvas.shape).astype(np.float32)
    image = Image.fromarray(np.clip(canvas, 0, 255).astype(np.uint8))
    image = image.filter(ImageFilter.GaussianBlur(radius=0.6))   # soften aliasing like a real lens
    masks = _visible_masks([full[i] for i in keep])
    return Scene(image=np.asarray(image), masks=masks)


def generate_dataset(out_dir: str | Path, num_images: int, seed: int = 0,
                     cfg: SceneConfig = SceneConfig(), image_format: str = 'jpg') -> Path:
    """Writes ``out_dir/images/*`` and ``out_dir/annotations.json`` (COCO, category ``person``).

    Returns the path of the annotation file. The layout matches the other COCO folders the tools take.
    """
    if num_images < 1:
        raise ValueError(f'num_images must be >= 1, got {num_images}')
    if image_format not in ('jpg', 'png'):
        raise ValueError(f"image_format must be 'jpg' or 'png', got {image_format!r}")
    out_dir = Path(out_dir)
    image_dir = out_dir / 'images'
    image_dir.mkdir(parents=True, exist_ok=True)
    images, annotations = [], []
    for index in range(num_images):
        scene = make_scene(np.random.default_rng([seed, index]), cfg)
        file_name = f'synthetic_{index:06d}.{image_format}'
        save_kwargs = {'quality': 95} if image_format == 'jpg' else {}
        Image.fromarray(scene.image).save(image_dir / file_name, **save_kwargs)
        image_id = index + 1
        images.append({'id': image_id, 'file_name': file_name, 'height': cfg.height, 'width': cfg.width})
        for mask in scene.masks:
            annotations.append(instance_annotation(len(annotations) + 1, image_id, mask))
    info = {'description': 'rhis_plugin synthetic people scenes', 'seed': seed, 'num_images': num_images}
    return write_coco(out_dir / 'annotations.json', images, annotations, info=info)
