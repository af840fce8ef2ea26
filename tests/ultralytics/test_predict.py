"""The predict callback: bool masks in box order, in the letterboxed or original frame, plotted and saved."""
import numpy as np
import pytest
import torch
from ultralytics import RTDETR, YOLO
from ultralytics.engine.results import Results
from ultralytics.utils import ASSETS

from rhis_plugin.models import build_rhis
from rhis_plugin.postprocess import PostprocessConfig
from rhis_plugin.ultralytics import RHISSegmenter, SegmenterOptions, add_rhis, letterbox_geometry, person_class_ids


@pytest.fixture(scope='module')
def rhis():
    return build_rhis('rhis_b0_64x48', aux_heads=False)


def injected_results(height=120, width=160):
    image = np.random.default_rng(0).integers(0, 255, (height, width, 3), dtype=np.uint8)
    boxes = torch.tensor([[10.0, 5.0, 60.0, 110.0, 0.9, 0.0],     # person
                          [70.0, 20.0, 150.0, 100.0, 0.8, 2.0],    # car
                          [90.0, 10.0, 140.0, 118.0, 0.2, 0.0]])   # person with low confidence
    return Results(image, path='x.jpg', names={0: 'person', 1: 'bicycle', 2: 'car'}, boxes=boxes)


def test_masks_follow_boxes_and_classes(rhis):
    result = injected_results()
    options = SegmenterOptions(classes=[0], conf=0.5, postprocess=PostprocessConfig(threshold=0.0))
    RHISSegmenter(rhis, options)([result])
    masks = result.masks.data
    assert masks.shape == (3, 120, 160)
    assert masks[0].any() and not masks[1].any() and not masks[2].any()   # car and low-confidence person: empty
    ys, xs = torch.nonzero(masks[0], as_tuple=True)
    assert xs.min() >= 10 and xs.max() < 60 and ys.min() >= 5 and ys.max() < 110


def test_binary_mode_and_images_of_different_sizes(rhis):
    small, large = injected_results(90, 100), injected_results(120, 160)
    options = SegmenterOptions(classes=None, binary=True, postprocess=PostprocessConfig(threshold=0.0))
    RHISSegmenter(rhis, options)([small, large])
    assert small.masks.data.shape == (3, 90, 100) and large.masks.data.shape == (3, 120, 160)
    assert not large.masks.data[0, :, 61:].any()       # the person mask is cut to the box


def test_person_class_ids():
    assert person_class_ids({0: 'person', 1: 'car'}) == [0]
    assert person_class_ids(['car', 'Person']) == [1]
    assert person_class_ids({0: 'car'}) is None


@pytest.mark.parametrize('model_cls, cfg, retina', [(YOLO, 'yolo11n.yaml', False), (RTDETR, 'rtdetr-l.yaml', True)])
def test_predict_with_callback_plots_and_saves(model_cls, cfg, retina, tmp_path):
    """Bool masks, in the letterboxed input frame like a YOLO-seg model's (or at the original size with
    retina_masks=True), each inside its box; plotted, saved and written as polygons by Ultralytics."""
    from ultralytics.utils import ops
    model = model_cls(cfg)                      # random init from the yaml: no download
    add_rhis(model, classes=None, postprocess=PostprocessConfig(threshold=0.0))
    results = model.predict(ASSETS / 'bus.jpg', conf=0.0, max_det=4, imgsz=320, retina_masks=retina, verbose=False)
    result = results[0]
    assert len(result.boxes) > 0 and result.masks.data.dtype == torch.bool
    frame = tuple(result.masks.data.shape[1:])
    boxes = result.boxes.xyxy
    if retina:
        assert frame == result.orig_shape
    else:
        assert max(frame) == 320 and frame != result.orig_shape
        gain, pad = letterbox_geometry(result.orig_shape, frame)
        letterboxed = boxes * gain + torch.tensor(pad).repeat(2)
        assert torch.allclose(ops.scale_boxes(frame, letterboxed.clone(), result.orig_shape), boxes, atol=1e-3)
        boxes = letterboxed
    for mask, box in zip(result.masks.data, boxes):   # mask i lies in box i
        ys, xs = torch.nonzero(mask, as_tuple=True)
        if len(xs):
            assert xs.min() >= box[0].floor() - 1 and xs.max() <= box[2].ceil() + 1
            assert ys.min() >= box[1].floor() - 1 and ys.max() <= box[3].ceil() + 1
    assert result.plot().shape == (*result.orig_shape, 3)
    result.save(str(tmp_path / 'out.jpg'))
    result.save_txt(str(tmp_path / 'out.txt'))
    assert (tmp_path / 'out.jpg').stat().st_size > 0
    lines = (tmp_path / 'out.txt').read_text().splitlines()
    assert lines and all(len(line.split()) > 5 for line in lines)       # class + polygon


def fixed_boxes(boxes_per_frame):
    """A predictor callback, registered before RHIS's, that replaces the random detector's boxes."""
    state = {'frame': 0}

    def callback(predictor):
        for result in predictor.results:
            result.update(boxes=boxes_per_frame(state['frame']))
            state['frame'] += 1
    return callback


def test_save_txt_keeps_every_box_only_when_asked(tmp_path):
    """Boxes without an RHIS mask (here a car) are left out of label files with a one-time warning, or kept as
    their rectangle with keep_boxes=True."""
    boxes = torch.tensor([[100.0, 200.0, 300.0, 900.0, 0.9, 0.0], [400.0, 300.0, 700.0, 600.0, 0.8, 2.0]])
    lines = {}
    for keep in (False, True):
        model = YOLO('yolo11n.yaml')
        model.add_callback('on_predict_postprocess_end', fixed_boxes(lambda frame: boxes))
        add_rhis(model, classes=[0], postprocess=PostprocessConfig(threshold=0.0), keep_boxes=keep)
        project = tmp_path / f'keep_{keep}'
        with pytest.warns(UserWarning, match='keep_boxes=True') if not keep else _no_rhis_warning():
            model.predict(ASSETS / 'bus.jpg', imgsz=320, save_txt=True, project=str(project), name='run',
                          verbose=False)
        lines[keep] = next(project.rglob('labels/bus.txt')).read_text().splitlines()
    assert [line.split()[0] for line in lines[False]] == ['0']
    assert [line.split()[0] for line in lines[True]] == ['0', '2']
    rectangle = np.array(lines[True][1].split()[1:], float).reshape(-1, 2) * (810, 1080)
    # Masks are in the 320-pixel letterboxed frame: one pixel there is 3.4 pixels of the 1080-pixel image, and
    # polygons trace pixel centres: within two letterbox pixels.
    assert np.allclose(rectangle.min(0), [400, 300], atol=7) and np.allclose(rectangle.max(0), [700, 600], atol=7)


class _no_rhis_warning:
    def __enter__(self):
        import warnings
        self._catcher = warnings.catch_warnings(record=True)
        self.records = self._catcher.__enter__()
        warnings.simplefilter('always')

    def __exit__(self, *exc):
        self._catcher.__exit__(*exc)
        assert not [r for r in self.records if 'rhis:' in str(r.message)]


def test_track_masks_follow_the_tracked_boxes(tmp_path):
    """model.track on a short generated video: one person walking right keeps one track id, and its mask stays
    inside its tracked box in every frame (lap is installed, so nothing is pip-installed at run time)."""
    import cv2
    video = tmp_path / 'walk.mp4'
    writer = cv2.VideoWriter(str(video), cv2.VideoWriter_fourcc(*'mp4v'), 5, (160, 120))
    for frame in range(6):
        image = np.full((120, 160, 3), 40, np.uint8)
        cv2.rectangle(image, (20 + 10 * frame, 20), (50 + 10 * frame, 110), (200, 180, 160), -1)
        writer.write(image)
    writer.release()
    model = YOLO('yolo11n.yaml')
    model.add_callback('on_predict_postprocess_end', fixed_boxes(
        lambda frame: torch.tensor([[20.0 + 10 * frame, 20.0, 50.0 + 10 * frame, 110.0, 0.95, 0.0]])))
    add_rhis(model, postprocess=PostprocessConfig(threshold=0.0))
    results = model.track(str(video), imgsz=160, tracker='bytetrack.yaml', retina_masks=True, verbose=False)
    tracked = [r for r in results if r.boxes is not None and r.boxes.is_track]
    assert len(tracked) >= 4
    assert {int(r.boxes.id[0]) for r in tracked} == {1}
    centres = []
    for result in tracked:
        mask, box = result.masks.data[0].bool(), result.boxes.xyxy[0]
        ys, xs = torch.nonzero(mask, as_tuple=True)
        assert len(xs) > 0
        assert xs.min() >= box[0].floor() - 2 and xs.max() <= box[2].ceil() + 2
        assert ys.min() >= box[1].floor() - 2 and ys.max() <= box[3].ceil() + 2
        centres.append(float(xs.float().mean()))
    assert centres == sorted(centres) and centres[-1] - centres[0] > 20       # the mask walks with the person


def test_rhis_time_is_accounted_and_a_second_add_rhis_replaces_the_first(monkeypatch):
    """Results.speed carries RHIS's time ('rhis', ms per image: Ultralytics' postprocess entry ends before RHIS
    runs), the verbose speed lines say it, and add_rhis twice segments once."""
    model = YOLO('yolo11n.yaml')
    add_rhis(model, postprocess=PostprocessConfig(threshold=0.0))
    segmenter = add_rhis(model, postprocess=PostprocessConfig(threshold=0.0))
    for event in ('on_predict_start', 'on_predict_postprocess_end', 'on_predict_batch_end', 'on_predict_end'):
        assert sum(getattr(c, 'rhis_callback', False) for c in model.callbacks[event]) == 1, event
    calls = []
    original = segmenter.__call__
    segmenter.__class__ = type('Counting', (RHISSegmenter,), {
        '__call__': lambda self, *a, **k: calls.append(1) or original(*a, **k)})
    from ultralytics.utils import LOGGER
    lines = []
    monkeypatch.setattr(LOGGER, 'info', lambda message, *args, **kwargs: lines.append(str(message)))
    result = model.predict(ASSETS / 'bus.jpg', conf=0.0, max_det=3, imgsz=160, classes=[0], verbose=True)[0]
    assert calls == [1] and result.speed['rhis'] > 0 and set(result.speed) >= {'postprocess', 'rhis'}
    assert any(line.startswith('RHIS: ') and 'ms per image' in line for line in lines), lines


def test_an_rhis_onnx_file_segments_as_its_pytorch_model_and_through_rhis_yolo(tmp_path):
    """add_rhis / rhis-yolo take the RHIS ONNX files rhis predict takes (predict and track; others refuse them)."""
    from rhis_plugin.deploy import OnnxRHIS, export_onnx
    from rhis_plugin.models import RandomWeightsError
    from rhis_plugin.ultralytics.cli import RHISArgumentError, attach

    torch.manual_seed(0)
    model = build_rhis('rhislight_lite0_64x48', aux_heads=False).eval()
    path = export_onnx(model, tmp_path / 'rhis.onnx')
    options = SegmenterOptions(classes=[0], postprocess=PostprocessConfig(threshold=0.3))
    by_torch, by_onnx = injected_results(), injected_results()
    RHISSegmenter(model, options)([by_torch])
    RHISSegmenter(OnnxRHIS(path), options)([by_onnx])
    same = (by_torch.masks.data == by_onnx.masks.data).float().mean()
    assert by_onnx.masks.data.shape == (3, 120, 160) and same > 0.999
    with pytest.raises(RandomWeightsError):                     # the UNet of this file was never trained
        add_rhis(YOLO('yolo11n.yaml'), path)
    detector = attach(YOLO('yolo11n.yaml'), 'predict', {'rhis': str(path), 'rhis_allow_random': True})
    result = detector.predict(ASSETS / 'bus.jpg', conf=0.0, max_det=2, imgsz=64, verbose=False)[0]
    assert result.masks is not None and len(result.masks) == len(result.boxes)
    with pytest.raises(RHISArgumentError, match='runs predict and track'):
        attach(YOLO('yolo11n.yaml'), 'val', {'rhis': str(path)})
