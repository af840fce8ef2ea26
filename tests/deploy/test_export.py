"""ONNX export: the contract, dynamic N (0, 1, 17) and image size, parity with PyTorch, no ScatterND, the sidecar."""
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import onnx
import pytest
import torch
import torch.nn.functional as F

from rhis_plugin.deploy import OnnxRHIS, export_onnx
from rhis_plugin.models import build_rhis, save_rhis
from rhis_plugin.postprocess import PostprocessConfig

ROOT = Path(__file__).resolve().parents[2]


def random_rois(count: int, seed: int = 0) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    xy = torch.rand(count, 2, generator=g) * 0.6
    wh = 0.1 + torch.rand(count, 2, generator=g) * 0.4
    return torch.cat([torch.zeros(count, 1), xy, xy + wh], dim=1)


@pytest.mark.parametrize('preset', ['rhis_b0_64x48', 'rhis_b0_80x60'])
def test_export_matches_pytorch_for_any_number_of_rois(preset, tmp_path):
    model = build_rhis(preset, aux_heads=False).eval()
    path = export_onnx(model, tmp_path / 'rhis.onnx', image_size=(96, 128))
    graph = onnx.load(str(path))
    assert not any(n.op_type.startswith('Scatter') for n in graph.graph.node)
    assert any(n.op_type == 'RoiAlign' for n in graph.graph.node)
    runtime = OnnxRHIS(path, providers=['CPUExecutionProvider'])
    images = torch.rand(1, 3, 96, 128)
    for count in (0, 1, 17):
        rois = random_rois(count)
        out = runtime.run(images.numpy(), rois.numpy())
        with torch.no_grad():
            ref = model(images, rois)
        mask_h, mask_w = model.mask_size
        assert out['masks'].shape == (count, 3, mask_h, mask_w)
        assert out['binary_masks'].shape == (1, 1, 96, 128)
        if count:
            diff = np.abs(torch.softmax(torch.from_numpy(out['masks']), 1).numpy()
                          - torch.softmax(ref['masks'], 1).numpy()).max()
            assert diff < 1e-4, diff
        assert np.abs(out['binary_masks'] - ref['binary_masks'].numpy()).max() < 1e-4
    sidecar = json.loads((tmp_path / 'rhis.onnx.json').read_text())
    assert sidecar['image_size'] == [96, 128] and sidecar['mask_size'] == list(model.mask_size)
    assert sidecar['config']['roi_encoder'] == 'efficientnet_b0'


def test_batch_is_dynamic_and_rois_pick_their_image(tmp_path):
    model = build_rhis('rhis_b0_64x48', aux_heads=False).eval()
    runtime = OnnxRHIS(export_onnx(model, tmp_path / 'rhis.onnx', image_size=(64, 64)),
                       providers=['CPUExecutionProvider'])
    images = torch.rand(3, 3, 64, 64)
    rois = random_rois(4)
    rois[:, 0] = torch.tensor([2.0, 0.0, 1.0, 2.0])
    with torch.no_grad():
        ref = model(images, rois)['masks']
    out = runtime.run(images.numpy(), rois.numpy())['masks']
    assert np.abs(out - ref.numpy()).max() < 1e-3


def test_dilation_is_the_same_image_pixel_dilation_on_both_paths(tmp_path):
    """One definition of dilation: K image pixels of the pasted binary mask, in PyTorch and the ONNX runtime."""
    torch.manual_seed(0)
    model = build_rhis('rhis_b0_64x48', aux_heads=False).eval()
    runtime = OnnxRHIS(export_onnx(model, tmp_path / 'rhis.onnx', image_size=(64, 64)),
                       providers=['CPUExecutionProvider'])
    image = (np.random.default_rng(0).random((64, 64, 3)) * 255).astype(np.uint8)
    boxes = np.array([[8.0, 4.0, 40.0, 60.0]], np.float32)
    tensor = torch.from_numpy(image).permute(2, 0, 1).float()[None] / 255
    for dilation in (0, 2):
        cfg = PostprocessConfig(threshold=0.33, dilation=dilation)
        onnx_mask = runtime.predict([image], [boxes], cfg)[0].masks[0]
        torch_mask = model.predict(tensor, [torch.from_numpy(boxes)], cfg)[0].masks[0]
        plain = model.predict(tensor, [torch.from_numpy(boxes)], PostprocessConfig(threshold=0.33))[0].masks[0]
        assert (onnx_mask != torch_mask).float().mean() < 0.01
        expected = F.max_pool2d(plain[None, None].float(), 2 * dilation + 1, stride=1, padding=dilation)[0, 0] > 0
        assert torch.equal(torch_mask, expected)


def test_runtime_predict_matches_the_torch_path(tmp_path):
    model = build_rhis('rhis_b0_64x48', aux_heads=False).eval()
    runtime = OnnxRHIS(export_onnx(model, tmp_path / 'rhis.onnx', image_size=(90, 120)),
                       providers=['CPUExecutionProvider'], roi_chunk=1)
    image = (np.random.default_rng(0).random((90, 120, 3)) * 255).astype(np.uint8)
    boxes = np.array([[10.0, 5.0, 60.0, 85.0], [50.0, 0.0, 130.0, 70.0]], dtype=np.float32)
    cfg = PostprocessConfig(threshold=0.3)
    onnx_result = runtime.predict([image], [boxes], cfg)[0]
    torch_result = model.predict(torch.from_numpy(image).permute(2, 0, 1).float()[None] / 255,
                                 [torch.from_numpy(boxes)], cfg)[0]
    agreement = (onnx_result.masks == torch_result.masks).float().mean()
    assert agreement > 0.999 and onnx_result.masks.shape == (2, 90, 120)


def test_contract_errors(tmp_path):
    class NotRHIS(torch.nn.Module):
        def forward(self, x):
            return x * 2
    torch.onnx.export(NotRHIS(), (torch.rand(1, 3, 8, 8),), str(tmp_path / 'other.onnx'), input_names=['input'],
                      dynamo=False)
    with pytest.raises(ValueError, match='does not follow the RHIS contract'):
        OnnxRHIS(tmp_path / 'other.onnx')
    with pytest.raises(FileNotFoundError):
        OnnxRHIS(tmp_path / 'missing.onnx')
    (tmp_path / 'garbage.onnx').write_bytes(b'not a model')
    with pytest.raises(ValueError, match='not a loadable ONNX model'):
        OnnxRHIS(tmp_path / 'garbage.onnx')
    with pytest.raises(ValueError, match='opset'):
        export_onnx(build_rhis('rhis_b0_64x48'), tmp_path / 'x.onnx', opset=11)


def test_export_tool(tmp_path):
    checkpoint = save_rhis(build_rhis('rhis_b0_64x48'), tmp_path / 'rhis.pth')       # its frozen UNet is random
    command = [sys.executable, str(ROOT / 'tools/export_onnx.py'), '--checkpoint', str(checkpoint), '--image-size', '64',
               '96', '--out', str(tmp_path / 'out.onnx')]
    refused = subprocess.run(command, capture_output=True, text=True, timeout=600)
    assert refused.returncode == 2 and '--allow-random' in refused.stderr and not (tmp_path / 'out.onnx').exists()
    result = subprocess.run(command + ['--allow-random'], capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-2000:]
    assert OnnxRHIS(tmp_path / 'out.onnx').image_size == (64, 96)
    assert OnnxRHIS(tmp_path / 'out.onnx').peopleseg_weights is None       # recorded as never loaded
    bad = subprocess.run([sys.executable, str(ROOT / 'tools/export_onnx.py'), '--checkpoint',
                          str(tmp_path / 'nope.pth'), '--out', str(tmp_path / 'n.onnx')],
                         capture_output=True, text=True, timeout=600)
    assert bad.returncode == 2 and 'not found' in bad.stderr and not (tmp_path / 'n.onnx').exists()


@pytest.mark.parametrize('preset', ['rhis_b0_64x48', 'rhislight_lite0_64x48', 'upstream_b0_64x48', 'fcn_b0_14x14',
                                    'unet_in_box_b0', 'box_filled'])
def test_dynamic_image_export_matches_pytorch_at_three_sizes(preset, tmp_path):
    """Every architecture: a dynamic-size file traced at one size runs at others (one not divisible by 32), the
    working-size letterbox included (a small working size, so every size is resized)."""
    torch.manual_seed(0)
    model = build_rhis(preset, aux_heads=False, working_size=48).eval()
    path = export_onnx(model, tmp_path / 'rhis.onnx')
    runtime = OnnxRHIS(path, providers=['CPUExecutionProvider'])
    rois = random_rois(3)
    for size in ((64, 96), (128, 160), (72, 100)):
        images = torch.rand(1, 3, *size)
        out = runtime.run(images.numpy(), rois.numpy())
        with torch.no_grad():
            ref = model(images, rois)
        assert out['binary_masks'].shape == ref['binary_masks'].shape and max(out['binary_masks'].shape) == 48
        assert np.abs(out['binary_masks'] - ref['binary_masks'].numpy()).max() < 1e-4, size
        diff = np.abs(torch.softmax(torch.from_numpy(out['masks']), 1).numpy()
                      - torch.softmax(ref['masks'], 1).numpy()).max()
        assert diff < 1e-4, (size, diff)


def test_pytorch_and_onnx_give_the_same_masks_at_vga_and_1080p(tmp_path):
    """The default working size: one dynamic file, the frame as it comes, the same masks and person map."""
    torch.manual_seed(0)
    model = build_rhis('rhis_b0_64x48', aux_heads=False).eval()
    runtime = OnnxRHIS(export_onnx(model, tmp_path / 'rhis.onnx'), providers=['CPUExecutionProvider'])
    assert runtime.image_size is None and runtime.working_size == model.cfg.working_size == 320
    rng = np.random.default_rng(0)
    for height, width in ((480, 640), (1080, 1920)):
        image = (rng.random((height, width, 3)) * 255).astype(np.uint8)
        boxes = np.array([[0.1, 0.1, 0.4, 0.9], [0.3, 0.2, 0.8, 0.95]], np.float32) * [width, height, width, height]
        scores = np.array([0.6, 0.9], np.float32)
        tensor = torch.from_numpy(image).permute(2, 0, 1).float()[None] / 255
        onnx_rois = runtime.predict_rois([image], [boxes], [scores])[0]
        torch_rois = model.predict_rois(tensor, [torch.from_numpy(boxes)], [torch.from_numpy(scores)])[0]
        assert (onnx_rois.probs - torch_rois.probs).abs().max() < 1e-4
        onnx_masks, torch_masks = onnx_rois.paste().masks, torch_rois.paste().masks
        assert onnx_masks.shape == (2, height, width) and (onnx_masks != torch_masks).float().mean() < 1e-4
        onnx_person = runtime.person_probability(image)
        assert onnx_person.shape == (1, 1, height, width)
        assert (onnx_person - model.person_probability(tensor)).abs().max() < 1e-4


def test_fixed_size_files_without_a_working_size_keep_working(tmp_path):
    """A file like the reference's releases: fixed input size, UNet on that input, no sidecar. Frames of other
    sizes are resized to it, and masks and the person map come back at the frame's size."""
    model = build_rhis('rhis_b0_64x48', aux_heads=False, working_size=None).eval()
    path = export_onnx(model, tmp_path / 'reference_like.onnx', image_size=(64, 96), opset=17)
    path.with_suffix('.onnx.json').unlink()
    runtime = OnnxRHIS(path, providers=['CPUExecutionProvider'])
    assert runtime.image_size == (64, 96) and runtime.working_size is None
    image = (np.random.default_rng(0).random((120, 200, 3)) * 255).astype(np.uint8)
    pasted = runtime.predict([image], [np.array([[20.0, 10.0, 90.0, 110.0]], np.float32)],
                             PostprocessConfig(threshold=0.0))[0]
    assert pasted.masks.shape == (1, 120, 200) and pasted.masks.any()
    assert runtime.person_probability(image).shape == (1, 1, 120, 200)


def test_the_origin_record_travels_inside_the_file(tmp_path):
    """The UNet's origin is in the file's metadata_props (a path by its name only): the .onnx alone keeps it, and a
    file without any record counts as random (refused unless asked)."""
    import onnx

    from rhis_plugin.deploy import RHISBackend
    from rhis_plugin.models import RandomWeightsError
    from rhis_plugin.models.weights_origin import set_peopleseg_origin
    model = build_rhis('rhis_b0_64x48', aux_heads=False, roi_size=(32, 32)).eval()
    set_peopleseg_origin(model, '/home/someone/work_dirs/unet_b0.pth')
    path = export_onnx(model, tmp_path / 'rhis.onnx', image_size=(64, 64))
    path.with_suffix('.onnx.json').unlink()
    assert OnnxRHIS(path).peopleseg_weights == 'unet_b0.pth'
    assert '/home/someone' not in str(onnx.load(str(path)).metadata_props)
    RHISBackend(path)                                  # trained: no refusal
    stripped = onnx.load(str(path))
    del stripped.metadata_props[:]
    onnx.save(stripped, str(tmp_path / 'stripped.onnx'))
    with pytest.raises(RandomWeightsError, match='no record'):
        RHISBackend(tmp_path / 'stripped.onnx')
    assert RHISBackend(tmp_path / 'stripped.onnx', allow_random=True).onnx.peopleseg_weights is None


def test_int8_export_quantises_the_convolutions_and_keeps_the_contract(tmp_path):
    model = build_rhis('rhislight_lite0_64x48', aux_heads=False, peopleseg_weights='random').eval()
    path = export_onnx(model, tmp_path / 'rhis_int8.onnx', image_size=(64, 96), quantize='int8')
    ops = {node.op_type for node in onnx.load(str(path)).graph.node}
    assert 'ConvInteger' in ops and 'RoiAlign' in ops
    runtime = OnnxRHIS(path)
    out = runtime.run(np.random.rand(1, 3, 64, 96).astype(np.float32), random_rois(3).numpy())
    assert out['masks'].shape == (3, 3, 128, 96) and np.isfinite(out['masks']).all()
    assert json.loads(Path(f'{path}.json').read_text())['quantize'] == 'int8'
    with pytest.raises(ValueError, match="quantize must be one of \\(None, 'int8', 'fp16'\\)"):
        export_onnx(model, tmp_path / 'x.onnx', quantize='int4')


def test_fp16_export_halves_the_file_and_agrees_with_float32(tmp_path):
    """float16 inside, float32 at the edges; antialiased Resize and RoiAlign stay float32 (any frame size)."""
    torch.manual_seed(0)
    model = build_rhis('rhislight_lite0_64x48', aux_heads=False, peopleseg_weights='random').eval()
    full = export_onnx(model, tmp_path / 'rhis.onnx')
    half = export_onnx(model, tmp_path / 'rhis_fp16.onnx', quantize='fp16')
    graph = onnx.load(str(half)).graph
    assert any(init.data_type == onnx.TensorProto.FLOAT16 for init in graph.initializer)
    assert {node.op_type for node in graph.node} >= {'Resize', 'RoiAlign', 'Cast'}
    assert half.stat().st_size < 0.6 * full.stat().st_size
    assert json.loads(Path(f'{half}.json').read_text())['quantize'] == 'fp16'
    image, rois = np.random.default_rng(0).random((1, 3, 90, 120)).astype(np.float32), random_rois(3).numpy()
    a, b = OnnxRHIS(full).run(image, rois), OnnxRHIS(half).run(image, rois)
    assert b['masks'].dtype == np.float32 and b['masks'].shape == a['masks'].shape == (3, 3, 128, 96)
    assert np.abs(a['binary_masks'] - b['binary_masks']).max() < 0.02
    assert (a['masks'].argmax(1) == b['masks'].argmax(1)).mean() > 0.98
