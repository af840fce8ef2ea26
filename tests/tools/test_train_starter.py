"""tools/train_starter.py: the card says what the run did (recipe, learning curve, a detector's boxes), from the
records alone; the training path itself runs in tests/test_readme.py (the README's command, tiny)."""
import json

import pytest

PF, COCO = 'pf/val', 'coco:val'


def scores(ap: float) -> dict:
    return {'segm_AP': ap, 'segm_AP50': ap, 'segm_AP75': ap, 'target_iou': 0.5, 'box_filled_iou': 0.4,
            'unet_iou': 0.6, 'iou': 0.6}


def summary(copy_paste: float = 0.5) -> dict:
    stage1 = {'iters': 4, 'train_seconds': 60, 'augment': True, 'val': {PF: scores(0.7), COCO: scores(0.6)},
              'curve': {'2': {PF: scores(0.3), COCO: scores(0.2)}}}
    stage2 = {'iters': 4, 'train_seconds': 120, 'train_images': 143, 'copy_paste': copy_paste,
              'val': {PF: scores(0.5), COCO: scores(0.4)}, 'curve': {'2': {PF: scores(0.25), COCO: scores(0.125)}}}
    return {'command': 'python tools/train_starter.py --threads 1', 'file': 'rhis.pth', 'size_mb': 12.0, 'threads': 1,
            'preset': 'rhis_lite0_64x48', 'peopleseg': stage1, 'head': stage2}


def test_card_has_the_recipe_the_curve_and_the_detector_table(tmp_path, load_tool):
    tool = load_tool('train_starter')
    evaluation = tmp_path / 'yolox.json'
    evaluation.write_text(json.dumps({'boxes': 'detector', 'bbox_AP': 0.4, 'segm_AP': 0.3, 'segm_AP75': 0.2,
                                      'segm_AP_occluded': 0.1, 'mask_box_ratio': 0.75, 'segm_AP_rescored': 0.31}))
    args = tool.parse_args(['--pennfudan-val', PF, '--data', 'coco', '--detector-eval', f'coco val fifth={evaluation}'])
    record = summary()
    record['detector_eval'] = tool.detector_eval(args)
    card = tool.card(record, args)
    assert 'Simple Copy-Paste' in card and 'flipped, zoomed' in card and '1 CPU thread' in card
    assert '| mask AP | 2 | 25.0 | 12.5 |' in card and '| mask AP | 4 | 50.0 | 40.0 |' in card
    assert '| UNet person IoU | 2 | 0.600 | 0.600 |' in card
    assert '| coco val fifth | 40.0 | 30.0 | 20.0 | 10.0 | 0.75 | 31.0 | - |' in card     # a record from before
    evaluation.write_text(json.dumps({**json.loads(evaluation.read_text()), 'matched_mask_iou': 0.5,
                                      'matched_mask_iou_gt_box': 0.625, 'box_ceiling_iou': 0.9375}))
    record['detector_eval'] = tool.detector_eval(args)
    assert '| 0.75 | 31.0 | 0.500 / 0.625 / 0.938 |' in tool.card(record, args)
    assert 'trained on 143 images' in card
    plain = tool.card(summary(copy_paste=0.0), args)
    assert 'Copy-Paste' not in plain and "detector's boxes" not in plain


@pytest.mark.parametrize('entry', ['no-label.json', 'x=missing.json', 'x={gt}'])
def test_detector_eval_takes_rhis_eval_results_of_detector_boxes_only(entry, tmp_path, load_tool):
    tool = load_tool('train_starter')
    gt = tmp_path / 'gt.json'
    gt.write_text(json.dumps({'boxes': 'gt', 'segm_AP': 0.5}))         # an oracle-box run: not a detector's boxes
    args = tool.parse_args(['--detector-eval', entry.format(gt=gt)])
    with pytest.raises(SystemExit, match='LABEL=JSON'):
        tool.detector_eval(args)


def test_rescoring_keeps_the_note_on_where_the_file_came_from_unless_given_another(load_tool):
    tool = load_tool('train_starter')
    record = {'rescored': {'note': 'The UNet is an earlier run\'s.'}}
    assert tool.rescore_note(tool.parse_args(['--rescore']), record) == "The UNet is an earlier run's."
    assert tool.rescore_note(tool.parse_args(['--rescore', '--rescore-note', 'New.']), record) == 'New.'
    assert tool.rescore_note(tool.parse_args(['--rescore', '--rescore-note', '']), record) == ''
    assert tool.rescore_note(tool.parse_args(['--rescore']), {}) == ''
