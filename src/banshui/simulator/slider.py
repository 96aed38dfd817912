"""The slider captcha (滑块验证) some regions show after the password (R12).

It stands for a captcha a real site would show a person. This one anyone may
solve: its answer is published at its own address, so banshui can rehearse the
step without defeating anything real.
"""

from banshui.simulator import errors
from banshui.simulator.bureau import Bureau
from banshui.simulator.flows import open_flow
from banshui.simulator.state import Flow, SliderChallenge

WIDTH = 300
MARGIN = 40
TOLERANCE_PX = 3


def new_challenge(bureau: Bureau, flow: Flow) -> SliderChallenge:
    offset = bureau.state.slider_rng.randint(MARGIN, WIDTH - MARGIN)
    challenge = SliderChallenge(bureau.state.new_token(), WIDTH, offset)
    bureau.state.sliders[challenge.challenge_id] = flow.flow_id
    flow.slider = challenge
    return challenge


def challenge(bureau: Bureau, challenge_id: str) -> SliderChallenge:
    """The challenge with its answer, while its flow is open."""
    flow_id = bureau.state.sliders.get(challenge_id)
    if flow_id is None:
        raise errors.unknown_challenge()

    flow = open_flow(bureau, flow_id)
    assert flow.slider is not None
    return flow.slider


def solve(bureau: Bureau, flow_id: str, offset: int) -> Flow:
    """Pass the slider when dragged within a few pixels of its answer (else 2050)."""
    flow = open_flow(bureau, flow_id)
    if flow.slider is None or flow.slider_passed:
        raise errors.slider_not_expected()

    if abs(offset - flow.slider.offset) > TOLERANCE_PX:
        raise errors.slider_failed()

    flow.slider_passed = True
    return flow
