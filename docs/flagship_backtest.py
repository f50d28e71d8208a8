"""Score the flagship on the public sample and keep the score (docs/flagship/backtests.json).

    .venv/bin/python docs/flagship_backtest.py --changed "what changed since the last score, and why"

Runs ``redline backtest ../shared/data/questions/sample.yaml --scenario iran-us-2020 --json`` (the
posterior and the record shipped beside the scenario are used by default) and appends the score,
the baselines' scores and the scenario's and posterior's sha256 to the list; every score is kept,
the first one included (issue 16: freeze before scoring, report the first score and any later
one with what changed and why). docs/flagship_figures.py renders the list into docs/flagship.md.
"""
from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import subprocess
import sys
from pathlib import Path

DOCS = Path(__file__).resolve().parent
ROOT = DOCS.parent
SAMPLE = ROOT.parent / "shared" / "data" / "questions" / "sample.yaml"
SCENARIOS = ROOT / "src" / "redline" / "scenarios"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--changed", required=True, help="what changed since the last score, and why")
    parser.add_argument("--questions", type=Path, default=SAMPLE)
    args = parser.parse_args()
    proc = subprocess.run([sys.executable, "-m", "redline", "backtest", str(args.questions), "--scenario", "iran-us-2020",
                           "--json"], capture_output=True, text=True, cwd=ROOT)
    if proc.returncode != 0:
        sys.exit(proc.stderr.strip()[-400:])
    res = json.loads(proc.stdout)
    entry = {
        "when": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "scenario_sha256": hashlib.sha256((SCENARIOS / "iran-us-2020.yaml").read_bytes()).hexdigest(),
        "record_sha256": hashlib.sha256((SCENARIOS / "iran-us-2020.record.yaml").read_bytes()).hexdigest(),
        "posterior_sha256": (res.get("posterior") or {}).get("sha256", "none"),
        "brier": res["brier"]["score"],
        "brier_ci95": res["brier"]["ci95"],
        "log_score": res["log_score"]["score"],
        "baselines": {k: v["brier"]["score"] for k, v in res["baselines"].items()},
        "per_question": {q["id"]: {"probability": q["probability"], "brier": q["brier"]["score"]} for q in res["questions"]},
        "notes": res["notes"],
        "changed": args.changed,
    }
    path = DOCS / "flagship" / "backtests.json"
    kept = json.loads(path.read_text()) if path.exists() else []
    kept.append(entry)
    path.write_text(json.dumps(kept, indent=1))
    print(f"Brier {entry['brier']:.3f}; baselines " + ", ".join(f"{k} {v:.3f}" for k, v in entry["baselines"].items()))


if __name__ == "__main__":
    main()
