"""Back-off: 5 s, 30 s, 2 min, 10 min, 1 h, each stretched by jitter; then give up."""

from __future__ import annotations

import random

from banshui.forwarding.queue import Backoff


def test_each_wait_is_its_step_stretched_by_at_most_a_fifth_then_it_gives_up() -> None:
    for seed in range(50):
        backoff = Backoff(rng=random.Random(seed))
        waits = [backoff.after(made) for made in range(1, 7)]

        assert waits[-1] is None
        for wait, step in zip(waits, (5, 30, 120, 600, 3600), strict=False):
            assert wait is not None
            assert step <= wait.total_seconds() <= step * 1.2


def test_forwards_failing_together_do_not_all_come_back_together() -> None:
    backoff = Backoff(rng=random.Random(7))

    waits = {backoff.after(1) for _ in range(20)}

    assert len(waits) > 1
