def test_bad_folder_is_a_clear_error(tmp_path, load_tool, capsys):
    assert load_tool('train_rhis').main(['--train', str(tmp_path), '--val', str(tmp_path)]) == 2
    assert 'no COCO annotation file' in capsys.readouterr().err


def test_pretrained_keeps_the_stage1_unet(tmp_path, load_tool):
    """--pretrained starts the ROI encoder from ImageNet; the --peopleseg UNet must come through untouched. The run
    also trains on --augment'ed samples in mixed precision (--amp: bfloat16 on the CPU) and scores a learning-curve
    point (--eval-at), all in --metrics."""
    import json

    import torch

    from rhis_plugin.data import SceneConfig, generate_dataset
    from rhis_plugin.models import DEFAULT_PRESET, build_rhis, load_rhis, save_rhis

    data = tmp_path / 'data'
    generate_dataset(data, 3, 0, SceneConfig(height=64, width=64))
    torch.manual_seed(123)
    stage1 = build_rhis(DEFAULT_PRESET, peopleseg_weights='random')    # a UNet ImageNet has never seen
    unet_path = save_rhis(stage1, tmp_path / 'unet.pth')
    out = tmp_path / 'rhis.pth'
    tool = load_tool('train_rhis')
    metrics = tmp_path / 'metrics.json'
    assert tool.main(['--train', str(data), '--val', str(data), '--peopleseg', str(unet_path), '--pretrained',
                      '--iters', '2', '--batch-size', '2', '--out', str(out), '--augment', '--amp', '--eval-at', '1',
                      '--metrics', str(metrics)]) == 0
    record = json.loads(metrics.read_text())
    assert record['augment'] is True and record['amp'] is True and record['copy_paste'] == 0.0 and set(record['curve']) == {'1'}
    assert record['curve']['1'][str(data)]['instances'] == record['val'][str(data)]['instances'] > 0
    trained = load_rhis(out)
    for key, value in stage1.peopleseg.state_dict().items():
        assert torch.equal(trained.peopleseg.state_dict()[key], value), key
    imagenet = build_rhis(DEFAULT_PRESET, pretrained=True, peopleseg_weights='random')
    stem = trained.roi_encoder.body.conv_stem.weight[:, :3]    # ImageNet's, one optimiser step later
    assert torch.allclose(stem, imagenet.roi_encoder.body.conv_stem.weight[:, :3], atol=0.05)


def test_init_fine_tunes_a_whole_checkpoint(tmp_path, load_tool):
    """--init starts from every weight of a checkpoint (UNet and head): with a zero learning rate the head's
    convolutions come out as they went in; a --preset that is not the checkpoint's, or --pretrained, is refused."""
    import torch

    from rhis_plugin.data import SceneConfig, generate_dataset
    from rhis_plugin.models import build_rhis, load_rhis, save_rhis

    data = tmp_path / 'data'
    generate_dataset(data, 3, 0, SceneConfig(height=64, width=64))
    torch.manual_seed(7)
    start = save_rhis(build_rhis('rhislight_lite0_64x48', peopleseg_weights='random'), tmp_path / 'start.pth')
    out = tmp_path / 'tuned.pth'
    tool = load_tool('train_rhis')
    args = ['--init', str(start), '--peopleseg', 'random', '--train', str(data), '--val', str(data),
            '--batch-size', '2']
    assert tool.main([*args, '--iters', '1', '--lr', '0', '--out', str(out)]) == 0
    before, after = load_rhis(start).state_dict(), load_rhis(out).state_dict()
    assert load_rhis(out).cfg.head == 'light'
    for key, value in before.items():
        if key.endswith('weight') and value.ndim == 4:
            assert torch.equal(after[key], value), key
    assert tool.main([*args, '--preset', 'rhis_lite0_64x48']) == 2
    assert tool.main([*args, '--pretrained']) == 2
