"""Benchmark: `redline draft` on a 1,000-word article, offline (the issue's goal: under 5 s).

The article is the two bundled test articles (``tests/data/draft/kashmir.txt``) followed by the
seed article when ``../shared/seed`` is beside the repository, cut at the first sentence end after
1,000 words. Prints, separately:

- the drafting work in one process after imports: extraction (actors, claims), the scenario
  skeleton, its validation by the scenario loader, the review pages (best of 5 runs);
- the first call in a fresh process, where loading the country gazetteer counts;
- the wall time of the whole command, ``redline draft ARTICLE --out DRAFT.yaml`` (process start,
  imports and writing the four files included), as a user sees it.

Run: ``python benchmarks/draft.py``
"""
from __future__ import annotations

import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
WORDS = 1_000


def article() -> str:
    parts = [(ROOT / "tests" / "data" / "draft" / "kashmir.txt").read_text(encoding="utf-8")]
    seed = ROOT.parent / "shared" / "seed" / "article.txt"
    if seed.exists():
        parts.append(seed.read_text(encoding="utf-8"))
    text = "\n\n".join(parts)
    while len(text.split()) < WORDS:
        text += "\n\n" + parts[0]
    words = list(re.finditer(r"\S+", text))
    cut = words[WORDS - 1].end()
    stop = re.compile(r"[.!?][”\"’)]*(?=\s|$)").search(text, cut)
    return text[: stop.end() if stop else len(text)] + "\n"


def main() -> None:
    text = article()
    n_words = len(text.split())
    t0 = time.perf_counter()
    from redline.draft import build_skeleton, extract, to_yaml
    from redline.draft.review import review_html, review_markdown
    from redline.scenario.load import scenario_from_text

    t_import = time.perf_counter() - t0

    def once() -> tuple[float, int, int]:
        t = time.perf_counter()
        ex = extract(text)
        sk = build_skeleton(ex, scenario_id="bench")
        scenario_from_text(to_yaml(sk), name="bench.yaml")
        review_html(ex, sk, title="bench")
        review_markdown(ex, sk, title="bench")
        return time.perf_counter() - t, len(ex.actors), len(ex.claims)

    first, n_actors, n_claims = once()
    best = min(once()[0] for _ in range(5))
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "article.txt"
        path.write_text(text, encoding="utf-8")
        t = time.perf_counter()
        res = subprocess.run([sys.executable, "-m", "redline", "draft", str(path), "--out", str(Path(tmp) / "d.yaml")],
                             capture_output=True, text=True)
        wall = time.perf_counter() - t
        if res.returncode != 0:
            raise SystemExit(f"redline draft failed: {res.stderr.strip()}")
    print(f"article: {n_words} words, {len(text)} characters; drafted {n_actors} actors, {n_claims} claims")
    print(f"imports (redline.draft, scenario loader): {t_import:.2f} s")
    print(f"first draft in this process (gazetteer load included): {first:.3f} s")
    print(f"draft after warm-up (extract + skeleton + validate + review pages), best of 5: {best:.3f} s")
    print(f"whole command `redline draft ARTICLE --out DRAFT.yaml` (fresh process): {wall:.2f} s  (goal < 5 s)")


if __name__ == "__main__":
    main()
