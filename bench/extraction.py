"""Extraction: exact-match accuracy on the shared samples and the corpus, and speed.

A text is right when ``extract`` gives exactly its code (or no code where the
answer is none) and its kind. A negative is a text whose answer is no code: any
code there is a wrong code, the worst mistake, since a login would submit it.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from banshui.sms.extraction import extract

HERE = Path(__file__).resolve().parent
CORPUS = HERE / "corpus.jsonl"
# Real bureau and bank texts with their right answers, kept with the tests.
SAMPLES = HERE.parent / "tests" / "data" / "sms-samples.jsonl"


@dataclass(frozen=True, slots=True)
class Labelled:
    id: str
    text: str
    code: str | None
    kind: str


def load(path: Path) -> list[Labelled]:
    rows = [json.loads(line) for line in path.read_text("utf-8").splitlines() if line]
    return [Labelled(r["id"], r["text"], r["code"], r["kind"]) for r in rows]


def score(texts: list[Labelled]) -> dict[str, Any]:
    """Right codes, right kinds, and every mistake named by id."""
    wrong: list[dict[str, Any]] = []
    codes_right = kinds_right = wrong_on_negatives = 0
    for item in texts:
        got = extract(item.text)
        code_ok = got.code == item.code
        kind_ok = got.kind.value == item.kind
        codes_right += code_ok
        kinds_right += kind_ok
        if item.code is None and got.code is not None:
            wrong_on_negatives += 1
        if not (code_ok and kind_ok):
            wrong.append(
                {
                    "id": item.id,
                    "want": [item.code, item.kind],
                    "got": [got.code, got.kind],
                }
            )
    total = len(texts)
    return {
        "texts": total,
        "negatives": sum(item.code is None for item in texts),
        "code_accuracy": codes_right / total if total else 0.0,
        "kind_accuracy": kinds_right / total if total else 0.0,
        "wrong_codes_on_negatives": wrong_on_negatives,
        "mistakes": wrong,
    }


def throughput(texts: list[str], seconds: float) -> float:
    """Texts per second over repeated passes, for at least ``seconds``."""
    for text in texts:  # warm the regex caches
        extract(text)
    done = 0
    started = time.perf_counter()
    while (elapsed := time.perf_counter() - started) < seconds:
        for text in texts:
            extract(text)
        done += len(texts)
    return done / elapsed


def run(seconds: float = 2.0, samples: Path = SAMPLES) -> dict[str, Any]:
    corpus = load(CORPUS)
    shared = load(samples)
    on_samples = score(shared)
    on_corpus = score(corpus)
    every = [*shared, *corpus]
    both = score(every)
    return {
        "extraction_accuracy": both["code_accuracy"],
        "extraction_per_s": throughput([item.text for item in every], seconds),
        "samples": on_samples,
        "corpus": on_corpus,
        "all": {k: v for k, v in both.items() if k != "mistakes"},
    }


def cli(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(
        prog="python -m bench.extraction", description=__doc__
    )
    parser.add_argument("--seconds", type=float, default=2.0)
    parser.add_argument("--cpu", type=int, help="pin this process to one core")
    args = parser.parse_args(argv)
    if args.cpu is not None:
        os.sched_setaffinity(0, {args.cpu})
    return run(args.seconds)


def main() -> None:
    print(json.dumps(cli(), ensure_ascii=False))


if __name__ == "__main__":
    main()
