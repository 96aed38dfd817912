"""``banshui demo --faults``: the same steps while the carrier and the bureau misbehave.

Every SMS a step used beyond the table must be explained by a fault that fired.
"""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

import pytest

from banshui.demo.faults import Taken, consumed_twice, explanations

LOGIN = "login-1"
SEEDS = (3, 8, 13, 21, 29)
CODE_TEXT = "【深圳税务】您的验证码是：{code}（有效期为5分钟），请勿泄露。"


def _sms(sms_id: int, code: str, delivery: str = "delivered") -> dict[str, Any]:
    return {
        "id": sms_id,
        "phone": "19912340001",
        "text": CODE_TEXT.format(code=code),
        "cause": "banshui",
        "delivery": delivery,
    }


def _fired(fault: str, detail: str, **extra: Any) -> dict[str, Any]:
    return {
        "fault": fault,
        "at": "2026-03-14T10:00:00+08:00",
        "detail": detail,
        **extra,
    }


def _demo_with_faults(seed: int) -> subprocess.Popen[str]:
    command = [sys.executable, "-m", "banshui", "demo", "--faults", "--json"]
    return subprocess.Popen(  # noqa: S603  (our own command, fixed arguments)
        [*command, "--seed", str(seed)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _assert_ok(seed: int, result: dict[str, Any]) -> None:
    assert result["ok"] is True, (seed, result)
    assert all(login["status"] == "succeeded" for login in result["logins"])
    switch = result["logins"][1]
    assert (switch["switched"], switch["sms_used"]) == (True, 0)
    assert (result["violations"], result["codes_consumed_twice"]) == (0, 0)
    assert result["faults"], "no fault fired"
    for item in result["sms_beyond_table"]:
        assert item["unexplained"] == 0
        assert len(item["explained_by"]) == item["sms"]
    # Every SMS of every ask is in the total: the failed asks' too.
    assert result["sms_total"] == sum(login["sms_used"] for login in result["logins"])
    for login in result["logins"]:
        failed = sum(ask["sms_used"] for ask in login["failed_asks"])
        assert failed <= login["sms_used"]
        assert all(ask["status"] == "failed" for ask in login["failed_asks"])


@pytest.mark.sqlite_only  # the demo's database is a SQLite one of its own
def test_banshui_demo_faults_is_ok_for_a_spread_of_seeds() -> None:
    # Seed 13, for one, has the carrier lose both codes of step 1's first ask,
    # so the step is asked again. Most of a run waits on the simulated carrier:
    # the runs go side by side.
    runs = {seed: _demo_with_faults(seed) for seed in SEEDS}
    finished = {seed: run.communicate(timeout=300) for seed, run in runs.items()}

    for seed, (stdout, stderr) in finished.items():
        if runs[seed].returncode != 0:
            # Whole: the story of the run says which step failed and why.
            pytest.fail(f"seed {seed} ended {runs[seed].returncode}:\n{stderr}")
        _assert_ok(seed, json.loads(stdout))


def test_a_lost_code_explains_the_fresh_one() -> None:
    sms = [_sms(1, "111111", "lost"), _sms(2, "222222")]
    fired = [_fired("sms_lose", "SMS 1 lost by the carrier", sms_id=1)]
    taken = {("19912340001", "222222"): [Taken(LOGIN)]}

    assert explanations([LOGIN], fired, sms, taken) == ["SMS 1 lost by the carrier"]


def test_a_delayed_code_explains_the_fresh_one_only_when_it_came_too_late() -> None:
    sms = [_sms(1, "111111"), _sms(2, "222222")]
    fired = [_fired("sms_delay_ms", "SMS 1 delayed by 4400 ms", sms_id=1)]
    late = {("19912340001", "111111"): [Taken(None)], ("19912340001", "222222"): []}
    in_time = {("19912340001", "111111"): [Taken(LOGIN)]}

    (cause,) = explanations([LOGIN], fired, sms, late)
    assert cause.startswith("SMS 1 delayed by 4400 ms: the code came after")
    assert explanations([LOGIN], fired, sms[:1], in_time) == []


def test_a_5xx_explains_a_code_only_when_it_kept_it_from_going_out() -> None:
    before = _fired(
        "error_5xx", "send-code answered 503 before it took effect", took_effect=False
    )
    after = _fired(
        "error_5xx",
        "send-code answered 503 after it took effect: SMS 1 was sent",
        took_effect=True,
        sms_id=1,
    )
    taken = {("19912340001", "111111"): [Taken(LOGIN)]}

    assert len(explanations([LOGIN], [before], [], {})) == 1
    assert explanations([LOGIN], [after], [_sms(1, "111111")], taken) == []


def test_slow_answers_and_duplicates_explain_no_sms() -> None:
    fired = [
        _fired("slow_ms", "password answered 250 ms late"),
        _fired("sms_duplicate", "SMS 1 delivered twice", sms_id=1),
        _fired("person_not_found", "the password step answered 2060 (R11)"),
    ]
    taken = {("19912340001", "111111"): [Taken(LOGIN)]}

    assert explanations([LOGIN], fired, [_sms(1, "111111")], taken) == []


def test_the_codes_a_failed_ask_lost_explain_the_sms_it_cost() -> None:
    sms = [_sms(1, "111111", "lost"), _sms(2, "222222", "lost"), _sms(3, "333333")]
    fired = [
        _fired("sms_lose", "SMS 1 lost by the carrier", sms_id=1),
        _fired("sms_lose", "SMS 2 lost by the carrier", sms_id=2),
    ]
    taken = {("19912340001", "333333"): [Taken("login-2")]}

    assert explanations([LOGIN, "login-2"], fired, sms, taken) == [
        "SMS 1 lost by the carrier",
        "SMS 2 lost by the carrier",
    ]


def test_a_code_a_failed_ask_took_and_had_refused_is_explained() -> None:
    sms = [_sms(1, "111111"), _sms(2, "222222", "lost"), _sms(3, "333333")]
    fired = [
        _fired("sms_reorder", "SMS 1 held back 800 ms", sms_id=1),
        _fired("sms_lose", "SMS 2 lost by the carrier", sms_id=2),
        _fired("sms_reorder", "SMS 3 held back 800 ms", sms_id=3),
    ]
    taken = {
        ("19912340001", "111111"): [Taken(LOGIN)],
        ("19912340001", "333333"): [Taken("login-2")],
    }

    # The re-ask's code worked: it is the table's SMS, not one beyond it.
    assert explanations([LOGIN, "login-2"], fired, sms, taken) == [
        "SMS 1 held back 800 ms: the bureau refused the code",
        "SMS 2 lost by the carrier",
    ]


def test_a_code_handed_to_two_logins_is_counted() -> None:
    taken = {
        ("19912340001", "111111"): [Taken("a"), Taken("b")],
        ("19912340001", "222222"): [Taken("a"), Taken(None)],
    }

    assert consumed_twice(taken) == 1
