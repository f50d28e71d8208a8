"""Scenario discovery: which regions of the uncertainty space lead to an outcome of interest.

PRIM, the Patient Rule Induction Method (Friedman & Fisher 1999, Statistics and Computing 9,
123-143, doi:10.1023/A:1008894516817), as used for scenario discovery by Bryant & Lempert (2010,
Technological Forecasting & Social Change 77, 34-49, doi:10.1016/j.techfore.2009.08.002) and the
EMA Workbench: peel a small fraction ``alpha`` of the points off one face of a box at a time,
choosing the peel that raises the share of cases of interest (density) most, then paste back
while that helps; the peeling trajectory trades coverage (share of all cases of interest inside
the box) against density. Covering repeats the search on the points outside the boxes found.
Categorical factors (strategies) are peeled one category at a time.

CART (Breiman et al. 1984) gives the alternative: a small classification tree whose
majority-of-interest leaves are boxes too.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from redline.errors import ParameterError
from redline.results.store import ResultsStore

__all__ = ["Box", "prim", "cart", "discover_store", "plot_discovery"]


@dataclass
class Box:
    """A box: per continuous factor ``(low, high)`` inclusive, per categorical factor a set of codes."""

    limits: dict[int, tuple[float, float]]
    categories: dict[int, frozenset] = field(default_factory=dict)
    coverage: float = 0.0
    density: float = 0.0
    mass: float = 0.0
    cases: int = 0
    points: int = 0

    def contains(self, X: np.ndarray) -> np.ndarray:
        m = np.ones(X.shape[0], dtype=bool)
        for j, (lo, hi) in self.limits.items():
            m &= (X[:, j] >= lo) & (X[:, j] <= hi)
        for j, cats in self.categories.items():
            m &= np.isin(X[:, j], list(cats))
        return m


def _box_of(X: np.ndarray, inside: np.ndarray, categorical: set[int]) -> Box:
    limits, cats = {}, {}
    for j in range(X.shape[1]):
        col = X[inside, j]
        if j in categorical:
            cats[j] = frozenset(np.unique(col).tolist())
        else:
            limits[j] = (float(col.min()), float(col.max()))
    return Box(limits, cats)


def _stats(box: Box, inside: np.ndarray, y: np.ndarray, total_cases: int, total_points: int) -> Box:
    k = int(y[inside].sum())
    n = int(inside.sum())
    box.cases, box.points = k, n
    box.coverage = k / total_cases if total_cases else 0.0
    box.density = k / n if n else 0.0
    box.mass = n / total_points if total_points else 0.0
    return box


def _peel_candidates(X: np.ndarray, inside: np.ndarray, alpha: float, categorical: set[int]):
    for j in range(X.shape[1]):
        col = X[inside, j]
        if j in categorical:
            present = np.unique(col)
            if present.size > 1:
                for c in present:
                    yield inside & (X[:, j] != c)
            continue
        if col.size < 2 or col.min() == col.max():
            continue
        lo_q = np.quantile(col, alpha, method="lower")
        hi_q = np.quantile(col, 1 - alpha, method="higher")
        yield inside & (X[:, j] > lo_q)
        yield inside & (X[:, j] < hi_q)


def _paste(X, y, inside, within, alpha, categorical):
    """Friedman & Fisher's pasting: widen one face at a time while the density rises."""
    while True:
        mean = y[inside].mean()
        best, best_mean = None, mean
        n_add = max(1, int(round(alpha * inside.sum())))
        for j in range(X.shape[1]):
            if j in categorical:
                continue
            col = X[:, j]
            lo, hi = col[inside].min(), col[inside].max()
            others = within & ~inside
            # points inside the box on every other face
            rest = within.copy()
            for k in range(X.shape[1]):
                if k == j:
                    continue
                if k in categorical:
                    rest &= np.isin(X[:, k], np.unique(X[inside, k]))
                else:
                    rest &= (X[:, k] >= X[inside, k].min()) & (X[:, k] <= X[inside, k].max())
            for side in (-1, 1):
                cand = rest & others & ((col < lo) if side < 0 else (col > hi))
                if not cand.any():
                    continue
                vals = np.sort(col[cand])
                edge = vals[::-1][:n_add][-1] if side < 0 else vals[:n_add][-1]
                new = inside | (rest & ((col >= edge) & (col < lo) if side < 0 else (col <= edge) & (col > hi)))
                new_mean = y[new].mean()
                if new_mean > best_mean + 1e-12:
                    best, best_mean = new, new_mean
        if best is None:
            return inside
        inside = best


def prim(X: np.ndarray, y: np.ndarray, *, categorical: set[int] | None = None, alpha: float = 0.05,
         mass_min: float = 0.05, min_coverage: float = 0.5, max_boxes: int = 3, paste: bool = True,
         min_density: float = 0.5) -> dict:
    """PRIM with covering (Friedman & Fisher 1999).

    Parameters
    ----------
    X:
        ``(n, d)`` factor values; categorical columns hold integer codes.
    y:
        ``(n,)`` booleans: cases of interest.
    alpha:
        share of the box's points peeled per step.
    mass_min:
        stop peeling below this share of all points.
    min_coverage:
        from each peeling trajectory, keep the densest box with at least this coverage.
    min_density:
        covering keeps a second or later box only if at least this share of it is of interest.

    Returns
    -------
    dict
        ``boxes`` (list of :class:`Box`, coverage relative to every case of interest) and
        ``trajectories`` (per box search: list of (coverage, density, mass, restricted dims)).
    """
    X = np.asarray(X, dtype=float)
    y = np.asarray(y, dtype=bool)
    categorical = set(categorical or ())
    n, d = X.shape
    total_cases = int(y.sum())
    full = _box_of(X, np.ones(n, dtype=bool), categorical)
    remaining = np.ones(n, dtype=bool)
    boxes, trajectories = [], []
    while len(boxes) < max_boxes and y[remaining].sum() > 0:
        inside = remaining.copy()
        base_density = y[remaining].mean()
        steps = [inside]
        while inside.sum() / n > mass_min and y[inside].mean() < 1.0:
            best, best_key = None, None
            for cand in _peel_candidates(X, inside, alpha, categorical):
                m = int(cand.sum())
                if m == 0 or m / n < mass_min * 0.5 or m == inside.sum():
                    continue
                key = (y[cand].mean(), m)
                if best_key is None or key > best_key:
                    best, best_key = cand, key
            if best is None:
                break
            inside = best
            steps.append(inside)
        traj = []
        for s in steps:
            b = _stats(_box_of(X, s, categorical), s, y, total_cases, n)
            traj.append((b.coverage, b.density, b.mass, len(_restricted(b, full, categorical)), s))
        eligible = [t for t in traj if t[0] >= min_coverage * (y[remaining].sum() / max(total_cases, 1))]
        chosen = max(eligible or traj, key=lambda t: (round(t[1], 12), -t[3], t[0]))
        inside = chosen[4]
        if paste:
            inside = _paste(X, y, inside, remaining, alpha, categorical)
        box = _stats(_box_of(X, inside, categorical), inside, y, total_cases, n)
        trajectories.append([t[:4] for t in traj])
        if box.density <= base_density + 1e-12 or not _restricted(box, full, categorical):
            break
        if boxes and box.density < min_density:
            break
        boxes.append(box)
        remaining &= ~inside
    return {"boxes": boxes, "trajectories": trajectories, "full": full}


def _restricted(box: Box, full: Box, categorical: set[int]) -> list[int]:
    dims = [j for j, (lo, hi) in box.limits.items() if lo > full.limits[j][0] or hi < full.limits[j][1]]
    dims += [j for j, cats in box.categories.items() if cats != full.categories[j]]
    return sorted(dims)


def cart(X: np.ndarray, y: np.ndarray, *, categorical: set[int] | None = None, max_depth: int = 3,
         min_leaf: int | None = None) -> list[dict]:
    """A small Gini classification tree (Breiman et al. 1984); returns its leaves as boxes.

    Each leaf is ``{"limits": {dim: (lo, hi)}, "categories": {dim: set}, "points", "cases"}``, bounds
    being midpoints between neighbouring values (``-inf``/``inf`` when not split).
    """
    X = np.asarray(X, dtype=float)
    y = np.asarray(y, dtype=bool)
    categorical = set(categorical or ())
    n = len(y)
    min_leaf = min_leaf or max(3, n // 20)
    leaves: list[dict] = []

    def gini(k, m):
        if m == 0:
            return 0.0
        p = k / m
        return 2 * p * (1 - p) * m

    def grow(idx, depth, limits, cats):
        k = int(y[idx].sum())
        m = idx.size
        if depth == max_depth or k == 0 or k == m or m < 2 * min_leaf:
            leaves.append({"limits": dict(limits), "categories": dict(cats), "points": m, "cases": k})
            return
        best = None
        parent = gini(k, m)
        for j in range(X.shape[1]):
            col = X[idx, j]
            if j in categorical:
                for c in np.unique(col):
                    left = col == c
                    nl = int(left.sum())
                    if min_leaf <= nl <= m - min_leaf:
                        kl = int(y[idx][left].sum())
                        g = gini(kl, nl) + gini(k - kl, m - nl)
                        if best is None or g < best[0]:
                            best = (g, j, ("cat", c), left)
                continue
            order = np.argsort(col, kind="stable")
            ys = y[idx][order].astype(int)
            cs = np.cumsum(ys)
            sorted_col = col[order]
            for i in range(min_leaf, m - min_leaf + 1):
                if sorted_col[i - 1] == sorted_col[i] if i < m else True:
                    continue
                kl = int(cs[i - 1])
                g = gini(kl, i) + gini(k - kl, m - i)
                if best is None or g < best[0]:
                    cut = 0.5 * (sorted_col[i - 1] + sorted_col[i])
                    best = (g, j, ("num", cut), col <= cut)
        if best is None or best[0] >= parent - 1e-12:
            leaves.append({"limits": dict(limits), "categories": dict(cats), "points": m, "cases": k})
            return
        _, j, (kind, value), left = best
        if kind == "num":
            lo, hi = limits.get(j, (-np.inf, np.inf))
            grow(idx[left], depth + 1, {**limits, j: (lo, min(hi, value))}, cats)
            grow(idx[~left], depth + 1, {**limits, j: (max(lo, value), hi)}, cats)
        else:
            present = set(np.unique(X[idx, j]).tolist())
            grow(idx[left], depth + 1, limits, {**cats, j: {value}})
            grow(idx[~left], depth + 1, limits, {**cats, j: present - {value}})

    grow(np.arange(n), 0, {}, {})
    return leaves


def discover_store(store: str | Path, outcome: str, *, threshold: float | None = None, below: bool = False,
                   min_coverage: float = 0.5, max_boxes: int = 3, alpha: float = 0.05) -> dict:
    """PRIM and CART over the sweep in ``store``: cases of interest are P(outcome) >= threshold."""
    if not 0 < min_coverage <= 1:
        raise ParameterError(f"--min-coverage must be in (0, 1], got {min_coverage}")
    if max_boxes < 1:
        raise ParameterError(f"--boxes must be at least 1, got {max_boxes}")
    with ResultsStore.open(store) as st:
        identity = st.identity
        design, probs = st.outcome_probabilities(outcome)
    d = identity["design"]
    factors = [f[0] for f in d["factors"]]
    actors = d["strategies"]["actors"]
    p = np.full(len(design), np.nan)
    p[probs["experiment"].to_numpy(int)] = probs["probability"].to_numpy(float)
    keep = ~np.isnan(p)
    names = factors + [f"strategy:{a}" for a in actors]
    categorical, codes = set(), {}
    columns = [design[f].to_numpy(float) for f in factors]
    for a in actors:
        labels = design[f"strategy:{a}"].to_numpy(str)
        cats = sorted(set(labels.tolist()))
        codes[len(columns)] = cats
        categorical.add(len(columns))
        columns.append(np.array([cats.index(v) for v in labels], dtype=float))
    if not columns:
        raise ParameterError(f"{store}: the sweep varied nothing; there is nothing to discover")
    X = np.column_stack(columns)[keep]
    p = p[keep]
    rule = "given"
    if threshold is None:
        threshold = float(np.quantile(p, 0.25 if below else 0.75)) if p.size else 0.5
        rule = "lower quartile" if below else "upper quartile"
    elif not 0 <= threshold <= 1:
        raise ParameterError(f"--threshold is a probability in [0, 1], got {threshold}")
    y = p < threshold if below else p >= threshold
    if below is False and rule != "given" and y.all():
        y = p > threshold  # a flat upper quartile: every experiment ties
    result = {"store": str(store), "scenario": identity["scenario"], "outcome": outcome, "threshold": threshold,
              "threshold_rule": rule, "below": below, "experiments": int(p.size), "cases": int(y.sum()),
              "factors": names, "reference": "Friedman & Fisher 1999, doi:10.1023/A:1008894516817; "
                                            "Bryant & Lempert 2010, doi:10.1016/j.techfore.2009.08.002"}
    if y.sum() == 0 or y.all():
        note = ("no experiment is a case of interest" if y.sum() == 0 else "every experiment is a case of interest")
        result["prim"] = {"boxes": [], "trajectories": [], "note": note + "; change --threshold"}
        result["cart"] = {"boxes": []}
        return result
    found = prim(X, y, categorical=categorical, alpha=alpha, min_coverage=min_coverage, max_boxes=max_boxes)
    full = found["full"]

    def describe(j, lo=None, hi=None, cats=None):
        if j in categorical:
            return {"categories": sorted(codes[j][int(c)] for c in cats),
                    "text": "{" + ", ".join(sorted(codes[j][int(c)] for c in cats)) + "}"}
        return {"low": lo, "high": hi, "text": f"[{lo:.4g}, {hi:.4g}]"}

    boxes = []
    for b in found["boxes"]:
        limits = {}
        for j in _restricted(b, full, categorical):
            if j in categorical:
                limits[names[j]] = describe(j, cats=b.categories[j])
            else:
                limits[names[j]] = describe(j, *b.limits[j])
        boxes.append({"coverage": b.coverage, "density": b.density, "mass": b.mass, "cases": b.cases,
                      "points": b.points, "limits": limits})
    result["prim"] = {"boxes": boxes, "alpha": alpha, "min_coverage": min_coverage,
                      "trajectories": [[{"coverage": c, "density": dn, "mass": m, "restricted": r}
                                        for c, dn, m, r in t] for t in found["trajectories"]]}
    total = int(y.sum())
    leaves = []
    for leaf in cart(X, y, categorical=categorical):
        if leaf["points"] == 0 or leaf["cases"] / leaf["points"] < 0.5:
            continue
        parts = []
        for j, (lo, hi) in sorted(leaf["limits"].items()):
            if np.isfinite(lo):
                parts.append(f"{names[j]} > {lo:.4g}")
            if np.isfinite(hi):
                parts.append(f"{names[j]} <= {hi:.4g}")
        for j, cats in sorted(leaf["categories"].items()):
            parts.append(f"{names[j]} in {{{', '.join(sorted(codes[j][int(c)] for c in cats))}}}")
        leaves.append({"rule": " and ".join(parts) or "(everything)", "coverage": leaf["cases"] / total,
                       "density": leaf["cases"] / leaf["points"], "points": leaf["points"], "cases": leaf["cases"]})
    leaves.sort(key=lambda r: (-r["coverage"], -r["density"]))
    result["cart"] = {"boxes": leaves, "max_depth": 3}
    return result


def plot_discovery(result: dict, directory: Path) -> Path | None:
    """Peeling trajectory (coverage vs density) and the limits of each PRIM box; returns the PNG."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:  # pragma: no cover
        return None
    prim_result = result.get("prim", {})
    if not prim_result.get("trajectories"):
        return None
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10, 4))
    for k, traj in enumerate(prim_result["trajectories"], 1):
        ax1.plot([t["coverage"] for t in traj], [t["density"] for t in traj], marker=".", label=f"search {k}")
    for k, box in enumerate(prim_result["boxes"], 1):
        ax1.scatter([box["coverage"]], [box["density"]], s=80, marker="*", zorder=3)
        ax1.annotate(f"box {k}", (box["coverage"], box["density"]), fontsize=8)
    ax1.set_xlabel("coverage")
    ax1.set_ylabel("density")
    ax1.set_title("PRIM peeling trajectories", fontsize=9)
    ax1.legend(fontsize=8)
    rows = [(k, name, lim) for k, box in enumerate(prim_result["boxes"], 1) for name, lim in box["limits"].items()
            if "low" in lim]
    for i, (k, name, lim) in enumerate(rows):
        ax2.plot([lim["low"], lim["high"]], [i, i], linewidth=6, solid_capstyle="butt")
    ax2.set_yticks(range(len(rows)), [f"box {k}: {name}" for k, name, _ in rows], fontsize=8)
    ax2.set_title("restricted ranges (continuous factors)", fontsize=9)
    fig.suptitle(f"scenario discovery: P({result['outcome']}) {'<' if result['below'] else '>='} "
                 f"{result['threshold']:.3g} — {result['scenario']}", fontsize=10)
    fig.tight_layout()
    path = directory / f"discovery_{result['outcome']}.png"
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
