import pytest


def test_the_instance_stage_refuses_a_random_unet_unless_asked(tmp_path, load_tool):
    """No silent randomness: without stage-1 weights the heads would train on a random frozen UNet."""
    with pytest.raises(SystemExit) as exit_:
        load_tool('kd_ablation').main(['--stage', 'instance', '--data-root', str(tmp_path)])
    message = str(exit_.value.code)
    assert '--allow-random' in message and '--teacher-peopleseg' in message and '--student-peopleseg' in message
