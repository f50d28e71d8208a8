"""Assemble a :class:`~redline.report.inputs.ReportInput` into one self-contained HTML file, or
into a PDF / PNG figures for slide decks.

The HTML has every style, script and figure inline (figures are inline SVG), so opening it makes
no network request; it reads the same on a laptop with no connection as in a browser online.
"""
from __future__ import annotations

import datetime as dt
import json
from html import escape
from pathlib import Path
from typing import Any

from redline import __version__ as version
from redline.errors import ParameterError
from redline.provenance import element_table
from redline.report import figures as F
from redline.report.graph import scenario_svg
from redline.report.inputs import ReportInput, load_input
from redline.results import atomic_write_bytes, atomic_write_text
from redline.results.summary import action_summary, red_line_summary, state_summary

__all__ = ["build_html", "build_figures", "write_report", "FORMATS"]

FORMATS = ("html", "pdf", "png")
_CONTEXT_CHARS = 240  # characters of source text shown either side of a cited passage

_CSS = """
:root{--ink:#1b1f24;--muted:#5c6670;--line:#d8dee4;--accent:#0072B2;--warn:#9a6700}
*{box-sizing:border-box}body{font:15px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:var(--ink);
margin:0;background:#f6f8fa}main{max-width:1080px;margin:0 auto;padding:24px 28px 60px;background:#fff}
h1{font-size:26px;margin:0 0 4px}h2{font-size:19px;margin:36px 0 8px;border-bottom:1px solid var(--line);
padding-bottom:4px}h3{font-size:15px;margin:18px 0 6px}.muted{color:var(--muted)}
.meta{display:grid;grid-template-columns:repeat(auto-fill,minmax(220px,1fr));gap:4px 18px;font-size:13px;
margin:12px 0}.meta b{color:var(--muted);font-weight:600}nav{font-size:13px;margin:10px 0 0}
nav a{margin-right:12px;color:var(--accent);text-decoration:none}
table{border-collapse:collapse;width:100%;font-size:13px;margin:8px 0}th,td{border-bottom:1px solid var(--line);
padding:4px 8px;text-align:left;vertical-align:top}th{background:#f0f3f6}td.num{text-align:right;
font-variant-numeric:tabular-nums;white-space:nowrap}figure{margin:10px 0;overflow-x:auto}
figure svg{max-width:100%;height:auto}figcaption{font-size:12px;color:var(--muted)}
.note{background:#fff8c5;border:1px solid #d4a72c;padding:6px 10px;border-radius:4px;font-size:13px;margin:6px 0}
mark{background:#ffe58a;padding:0 1px}.quote{font-size:12.5px;color:#333;background:#fafbfc;
border-left:3px solid var(--line);padding:4px 8px;margin:4px 0}.assumption{font-style:italic;color:#444}
.missing{color:#b42318;font-weight:600}#prov-filter{padding:4px 8px;width:280px;margin:4px 0}
tr:target{background:#fff4ce}a.el{color:inherit}footer{font-size:12px;color:var(--muted);margin-top:40px}
@media print{body{background:#fff}main{padding:0}nav,#prov-filter{display:none}h2{break-after:avoid}
figure{break-inside:avoid}}
"""

_JS = """
(function(){var box=document.getElementById('prov-filter');if(!box)return;
box.addEventListener('input',function(){var q=box.value.toLowerCase();
document.querySelectorAll('#provenance tbody tr').forEach(function(tr){
tr.style.display=tr.textContent.toLowerCase().indexOf(q)<0?'none':'';});});})();
"""


def _pct(x: float | None) -> str:
    return "–" if x is None else f"{x:.1%}"


def _as_of(data: ReportInput) -> dt.date | None:
    if data.loaded is not None:
        return data.loaded.spec.meta.as_of
    for ds in data.datasets.values():
        if ds.attrs.get("as_of"):
            return dt.date.fromisoformat(str(ds.attrs["as_of"])[:10])
    return None


def _blocks(data: ReportInput) -> dict[str, dict]:
    """Strategy -> outcome summary, from the datasets (or the summary when there are none)."""
    if data.datasets:
        blocks = F.summaries(data.datasets)
        if list(blocks) == ["run"]:
            label = _run_label(data)
            return {label: blocks["run"]}
        return blocks
    if isinstance(data.summary.get("strategies"), dict) and data.summary["strategies"]:
        first = next(iter(data.summary["strategies"].values()))
        if isinstance(first, dict) and all(isinstance(v, dict) and "probability" in v for v in first.values()):
            return data.summary["strategies"]
    if isinstance(data.summary.get("outcomes"), dict) and data.summary["outcomes"]:
        return {_run_label(data): data.summary["outcomes"]}
    return {}


def _run_label(data: ReportInput) -> str:
    policies = data.summary.get("strategies") or {}
    if isinstance(policies, dict) and policies and all(isinstance(v, str) for v in policies.values()):
        return ", ".join(f"{a}={s}" for a, s in policies.items())
    return ""


def _element_link(kind: str, name: str, data: ReportInput) -> str:
    """An element name that links to its provenance row when the table has it."""
    key = f"{kind}.{name}"
    label = escape(name.replace("_", " "))
    if data.loaded is None:
        return label
    return f'<a class="el" href="#prov-{escape(key)}" title="where this comes from">{label}</a>'


def _header(data: ReportInput) -> str:
    s = data.summary
    spec = data.loaded.spec if data.loaded is not None else None
    title = spec.meta.title if spec is not None else s.get("scenario", "redline result")
    as_of = _as_of(data)
    first = next(iter(data.datasets.values()), None)
    horizon = s.get("horizon") or (first.attrs.get("horizon") if first is not None else None)
    rows = [("scenario", s.get("scenario") or (spec.meta.id if spec else "–")),
            ("kind of result", data.kind),
            ("as of (week 1 starts)", as_of.isoformat() if as_of else "–"),
            ("horizon", f"{horizon} weeks" if horizon else "–"),
            ("runs" + {"compare": " per strategy", "sweep": " per experiment"}.get(data.kind, ""), f"{int(s['runs']):,}" if s.get("runs") else "–"),
            ("seed", s.get("seed", "–")),
            ("version", s.get("version") or (first.attrs.get("version") if first is not None else "–")),
            ("scenario sha256", (s.get("scenario_sha256") or "–")[:16] + "…")]
    if data.kind == "compare" and s.get("actor"):
        rows.insert(2, ("strategies of", s["actor"]))
    policies = s.get("policies") or (json.loads(first.attrs["policies"]) if first is not None
                                     and "policies" in first.attrs else None)
    if policies and data.kind == "compare" and s.get("actor") in policies:
        policies = {**policies, s["actor"]: " vs ".join(s.get("strategies") or []) or "compared"}
    if policies:
        rows.append(("policies", ", ".join(f"{a}: {p.get('policy', p) if isinstance(p, dict) else p}"
                                           for a, p in policies.items())))
    params = s.get("params") or {}
    if params:
        rows.append(("parameters", ", ".join(_parameter_text(k, v) for k, v in params.items())))
    if isinstance(s.get("posterior"), dict):
        rows.append(("posterior", f"{s['posterior'].get('path')} ({s['posterior'].get('particles', '?')} particles)"))
    meta = "".join(f"<div><b>{escape(k)}</b><br>{escape(str(v))}</div>" for k, v in rows)
    failures = [f"{name}: {ds.attrs['failure']}" if len(data.datasets) > 1 else ds.attrs["failure"]
                for name, ds in data.datasets.items() if ds.attrs.get("failure")]
    notes = "".join(f'<div class="note">{escape(n)}</div>' for n in [*data.notes, *failures])
    desc = f'<p class="muted">{escape(spec.meta.description)}</p>' if spec is not None and spec.meta.description else ""
    return f"<h1>{escape(title)}</h1>{desc}<div class=\"meta\">{meta}</div>{notes}"


def _outcomes_section(data: ReportInput, blocks: dict[str, dict]) -> str:
    if not blocks:
        return ""
    names = list(blocks)
    outcomes = list(next(iter(blocks.values())))
    head = "".join(f"<th>{escape(n or 'P')} (95% CI)</th><th>median week</th>" for n in names)
    body = []
    for o in outcomes:
        cells = []
        for n in names:
            b = blocks[n].get(o, {})
            ci = b.get("ci95") or [None, None]
            mw = b.get("median_week")
            cells.append(f'<td class="num" data-outcome="{escape(o)}" data-strategy="{escape(n)}">'
                         f"<b>{_pct(b.get('probability'))}</b> ({_pct(ci[0])}–{_pct(ci[1])})</td>"
                         f'<td class="num">{"–" if mw is None else f"{mw:.0f}"}</td>')
        desc = ""
        if data.loaded is not None and o in data.loaded.spec.outcomes:
            out = data.loaded.spec.outcomes[o]
            desc = f'<br><span class="muted">{escape(out.description or str(out.condition))}' \
                   f'{" (ends the run)" if out.absorbing else ""}</span>'
        body.append(f"<tr><td>{_element_link('outcomes', o, data)}{desc}</td>{''.join(cells)}</tr>")
    table = f"<table id=\"outcome-table\"><thead><tr><th>outcome</th>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"
    if data.kind == "sweep":
        intro = ("Mean probability of each outcome over the design's experiments, with the 5–95% range across "
                 "experiments; click an outcome for its source.")
        fig = F.to_svg(F.outcome_bars(blocks, xlabel="mean probability over experiments (whiskers: 5–95% range)"))
    else:
        intro = ("Probability that each outcome happens within the horizon, with 95% Wilson intervals; click an "
                 "outcome for its source.")
        failed = {n: next(iter(b.values()), {}).get("failed_runs", 0) for n, b in blocks.items()}
        if any(failed.values()):
            # Probabilities are over the runs that finished; the failed ones are counted here.
            intro += " " + "; ".join(
                f"{(n + ': ') if n else ''}{k:,} run(s) failed (state went non-finite) and are left out, so the "
                f"probabilities are over the other {next(iter(blocks[n].values())).get('runs', 0):,}"
                for n, k in failed.items() if k) + "."
            intro = f'<span class="note" id="failed-runs">{escape(intro)}</span>'
        fig = F.to_svg(F.outcome_bars(blocks))
    diff = ""
    if data.summary.get("differences"):
        rows = "".join(
            f"<tr><td>{escape(d['a'])} − {escape(d['b'])}</td><td>{escape(d['outcome'].replace('_', ' '))}</td>"
            f"<td class=\"num\">{d['difference']:+.1%}</td><td class=\"num\">[{d['ci95'][0]:+.1%}, {d['ci95'][1]:+.1%}]</td>"
            f"<td>{'yes' if d['ci95'][0] > 0 or d['ci95'][1] < 0 else 'no'}</td></tr>"
            for d in data.summary["differences"])
        diff = ("<h3>Differences between strategies (paired runs, common random numbers)</h3>"
                "<table><thead><tr><th>a − b</th><th>outcome</th><th>difference</th><th>95% CI</th>"
                f"<th>excludes 0</th></tr></thead><tbody>{rows}</tbody></table>")
    return (f'<h2 id="outcomes">Outcome probabilities</h2><p class="muted">{intro}</p>'
            f"{table}<figure>{fig}</figure>{diff}{_robustness(data)}")


def _robustness(data: ReportInput) -> str:
    rob = data.summary.get("robustness")
    if not rob:
        return ""
    if isinstance(rob, dict):
        rows = "".join(f"<tr><td>{escape(str(k))}</td><td>{escape(json.dumps(v) if not isinstance(v, str) else v)}</td></tr>"
                       for k, v in rob.items() if not isinstance(v, (list, dict)) or len(json.dumps(v)) < 400)
        from redline.experiments.robustness import space_title

        return f"<h3>Robustness over {escape(space_title(rob))}</h3><table><tbody>{rows}</tbody></table>"
    return ""


def _cumulative_section(data: ReportInput) -> str:
    if not data.datasets:
        return ""
    as_of = _as_of(data)
    fig = F.to_svg(F.cumulative_chart(_labelled(data), as_of=as_of))
    when = f"Week 1 starts on {as_of:%d %B %Y}; " if as_of else ""
    return (f'<h2 id="timing">When: cumulative probability over time</h2><p class="muted">{when}each curve is the '
            f"share of runs in which the outcome has happened by that date.</p><figure>{fig}</figure>")


def _labelled(data: ReportInput) -> dict:
    if list(data.datasets) == ["run"]:
        return {_run_label(data): data.datasets["run"]}
    return data.datasets


def fan_variables(data: ReportInput) -> list[str]:
    first = next(iter(data.datasets.values()))
    skip, order = [], None
    if data.loaded is not None:
        state = data.loaded.spec.state
        # flows are per-week noise and booleans are better read off the cumulative curves
        skip = [k for k, v in state.items() if v.flow or v.type == "boolean"]
        order = list(state)
    return F.key_variables(first, order, skip=skip)


def _fan_section(data: ReportInput) -> str:
    if not data.datasets or "trajectory" not in next(iter(data.datasets.values())):
        return ""
    variables = fan_variables(data)
    if not variables:
        return ""
    units = {k: v.unit for k, v in data.loaded.spec.state.items() if v.unit} if data.loaded is not None else {}
    fig = F.to_svg(F.fan_charts(_labelled(data), variables, as_of=_as_of(data), units=units))
    return (f'<h2 id="state">How the state evolves</h2><p class="muted">Median (line), 25–75% (dark band) and '
            f"5–95% (light band) of each variable over runs, week by week. Runs that ended early keep their "
            f"last value.</p><figure>{fig}</figure>")


def _final_state_section(data: ReportInput) -> str:
    if not data.datasets:
        return ""
    head = "".join(f"<th colspan=3>{escape(n or 'run')}</th>" for n in _labelled(data))
    sub = "<th>mean</th><th>5%</th><th>95%</th>" * len(data.datasets)
    stats = {n: state_summary(ds) for n, ds in _labelled(data).items()}
    variables = list(next(iter(stats.values())))
    rows = []
    for v in variables:
        cells = "".join(f'<td class="num">{"–" if stats[n][v][k] is None else f"{stats[n][v][k]:.4g}"}</td>'
                        for n in stats for k in ("mean", "p05", "p95"))
        rows.append(f"<tr><td>{_element_link('state', v, data)}</td>{cells}</tr>")
    return (f'<h3>State at the end of each run</h3><table><thead><tr><th></th>{head}</tr><tr><th>variable</th>{sub}'
            f"</tr></thead><tbody>{''.join(rows)}</tbody></table>")


def _sensitivity_section(data: ReportInput) -> str:
    parts = []
    if data.sensitivity:
        parts.append(f"<figure>{F.to_svg(F.sensitivity_bars(data.sensitivity, title='Sensitivity indices'))}"
                     "<figcaption>Which uncertain inputs drive each output (longer bar: more of the output's "
                     "variance explained).</figcaption></figure>")
    if data.prim_boxes:
        parts.append(f"<figure>{F.to_svg(F.prim_boxes(data.prim_boxes, data.input_ranges))}"
                     "<figcaption>Regions of the input space where the outcome of interest concentrates "
                     "(coverage: share of cases of interest inside the box; density: share of the box's "
                     "cases that are of interest).</figcaption></figure>")
    if not parts:
        return ""
    return '<h2 id="sensitivity">Which assumptions drive the answer</h2>' + "".join(parts)


def _calibration_section(data: ReportInput) -> str:
    cal = data.calibration
    if not cal:
        return ""
    fig = F.to_svg(F.calibration_plot(cal["forecasts"], cal["outcomes"], labels=cal.get("labels")))
    scores = {k: (v.get("score") if isinstance(v, dict) else v) for k, v in (cal.get("scores") or {}).items()}
    score_rows = "".join(f"<tr><td>{escape(str(k))}</td><td class=\"num\">{v:.4f}</td></tr>"
                         for k, v in scores.items() if isinstance(v, (int, float)))
    labels = cal.get("labels") or [str(i + 1) for i in range(len(cal["forecasts"]))]
    qrows = "".join(f"<tr><td>{escape(str(lbl))}</td><td class=\"num\">{float(p):.1%}</td>"
                    f"<td>{'yes' if o else 'no'}</td></tr>"
                    for lbl, p, o in zip(labels, cal["forecasts"], cal["outcomes"]))
    scores_html = f"<table><tbody>{score_rows}</tbody></table>" if score_rows else ""
    return (f'<h2 id="calibration">Backtest: calibration</h2><figure>{fig}</figure>{scores_html}'
            f"<table><thead><tr><th>question</th><th>forecast</th><th>happened</th></tr></thead>"
            f"<tbody>{qrows}</tbody></table>")


def _parameter_text(name: str, value: Any) -> str:
    if isinstance(value, (int, float)):
        return f"{name}={value:g}"
    if isinstance(value, dict) and value.get("per_run"):
        return f"{name} per run (mean {value['mean']:.3g}, {value['min']:.3g}–{value['max']:.3g})"
    return f"{name}={value}"


def _posterior_figures(post) -> list[tuple[str, Any]]:
    meta = post.metadata
    priors = {k: v["prior"] for k, v in (meta.get("parameters") or {}).items()}
    figs = [("posterior", F.posterior_panels(post.names, post.theta, post.weights, priors))]
    if meta.get("predictive"):
        figs.append(("predictive", F.predictive_panels(meta.get("checks") or {}, meta["predictive"])))
    return figs


def _posterior_section(data: ReportInput) -> str:
    post = data.posterior
    if post is None:
        return ""
    meta = post.metadata
    figs = _posterior_figures(post)
    rows = "".join(
        f"<tr><td>{escape(n)}</td><td class=\"num\">[{p['prior'][0]:.4g}, {p['prior'][1]:.4g}]</td>"
        f"<td class=\"num\">{p['mean']:.4g}</td><td class=\"num\">[{p['ci90'][0]:.4g}, {p['ci90'][1]:.4g}]</td></tr>"
        for n, p in (meta.get("parameters") or {}).items())
    gens = "".join(
        f"<tr><td class=\"num\">{g['generation']}</td><td class=\"num\">{_num(g.get('epsilon'))}</td>"
        f"<td class=\"num\">{_num(g.get('temperature'))}</td><td class=\"num\">{g['acceptance_rate']:.3f}</td>"
        f"<td class=\"num\">{g['ess']:,.0f}</td><td class=\"num\">{g['simulations']:,}</td></tr>"
        for g in meta.get("generations") or [])
    checks = meta.get("checks") or {}
    missed = [k for k, c in checks.items() if not c.get("within")]
    verdict = (f"{len(checks) - len(missed)} of {len(checks)} observations lie inside the 90% interval of fresh runs "
               "drawn from the posterior" + (f"; outside: {', '.join(missed)}" if missed else "") + ".")
    return (f'<h2 id="posterior">Fit to the record</h2><p class="muted">ABC-SMC posterior of '
            f"{escape(meta.get('scenario', ''))} on {escape(str(meta.get('record', '')))} "
            f"({post.particles:,} particles, seed {meta.get('seed')}; {escape(post.path.name)}, sha256 "
            f"{post.sha256[:12]}…).</p>"
            f"<figure>{F.to_svg(figs[0][1])}<figcaption>Prior (dashed) and posterior of each calibrated parameter, "
            "most narrowed first.</figcaption></figure>"
            f"<table><thead><tr><th>parameter</th><th>prior</th><th>posterior mean</th><th>90% interval</th></tr></thead>"
            f"<tbody>{rows}</tbody></table>"
            + (f"<figure>{F.to_svg(figs[1][1])}<figcaption>Posterior predictive check: each observation's statistic "
               f"in fresh runs from the posterior, its 90% interval, and the observed value. {escape(verdict)}"
               "</figcaption></figure>" if len(figs) > 1 else "")
            + f"<h3>Generations</h3><table><thead><tr><th>generation</th><th>tolerance</th><th>temperature</th>"
              f"<th>acceptance</th><th>ESS</th><th>simulations</th></tr></thead><tbody>{gens}</tbody></table>")


def _num(value: Any) -> str:
    if value is None:
        return "∞"
    return "∞" if isinstance(value, float) and value == float("inf") else f"{float(value):.3g}"


def _structure_section(data: ReportInput) -> str:
    if data.loaded is None:
        return ""
    spec = data.loaded.spec
    reds = "".join(f"<li><b>{_element_link('red_lines', rid, data)}</b> ({escape(r.owner)}): if "
                   f"<code>{escape(str(r.condition))}</code> then <b>{escape(' or '.join(r.responses))}</b>, credibility "
                   f"<code>{escape(str(r.credibility))}</code></li>" for rid, r in spec.red_lines.items())
    strategies = "".join(f"<li><b>{escape(sid)}</b> ({escape(s.actor)}): {escape(s.description)}</li>"
                         for sid, s in spec.strategies.items())
    return (f'<h2 id="structure">The scenario as a picture</h2><p class="muted">Who can do what, what it changes, '
            f"and which changes decide the outcomes.</p><figure>{scenario_svg(spec)}</figure>"
            + (f"<h3>Red lines</h3><ul>{reds}</ul>" if reds else "")
            + (f"<h3>Strategies</h3><ul>{strategies}</ul>" if strategies else ""))


def _quote_html(text: str, start: int, end: int) -> str:
    lo, hi = max(0, start - _CONTEXT_CHARS), min(len(text), end + _CONTEXT_CHARS)
    before, cited, after = text[lo:start], text[start:end], text[end:hi]
    squash = lambda s: " ".join(s.split())  # noqa: E731
    return (f'<div class="quote">{"…" if lo > 0 else ""}{escape(squash(before))} <mark>{escape(squash(cited))}</mark> '
            f'{escape(squash(after))}{"…" if hi < len(text) else ""}</div>')


def _provenance_section(data: ReportInput) -> str:
    if data.loaded is None:
        return ""

    table = element_table(data.loaded)
    rows = []
    sourced = 0
    for eid, entry in table.items():
        cell = []
        if entry.get("source"):
            sourced += 1
            src = entry["source"]
            cit = entry.get("citation") or {}
            title = escape(cit.get("title") or src["id"])
            if cit.get("url"):
                # plain text, not a link: a report must not invite requests it cannot vouch for offline
                title += f' <span class="muted">({escape(cit["url"])})</span>'
            bits = [b for b in (cit.get("publisher"), cit.get("date")) if b]
            cell.append(f"<b>{escape(src['id'])}</b>: {title}" + (f", {escape(', '.join(bits))}" if bits else ""))
            text = data.loaded.source_texts.get(src["id"])
            if text is not None and src.get("start") is not None:
                cell.append(f'<span class="muted">characters {src["start"]}–{src["end"]}</span>')
                cell.append(_quote_html(text, src["start"], src["end"]))
        if entry.get("assumption"):
            cell.append(f'<span class="assumption">assumption: {escape(entry["assumption"])}</span>')
        if not cell:
            cell.append('<span class="missing">no source or assumption</span>')
        rows.append(f'<tr id="prov-{escape(eid)}"><td><code>{escape(eid)}</code></td><td>{escape(entry["kind"])}</td>'
                    f"<td>{'<br>'.join(cell)}</td></tr>")
    return (f'<h2 id="provenance-h">Provenance: what every element rests on</h2><p class="muted">{len(table)} '
            f"elements; {sourced} cite a source, the rest state an assumption. Cited passages are highlighted in "
            f'their context when the source text is available locally.</p><input id="prov-filter" type="search" '
            f'placeholder="filter elements…" aria-label="filter provenance"><table id="provenance"><thead><tr>'
            f"<th>element</th><th>kind</th><th>source / assumption</th></tr></thead><tbody>{''.join(rows)}"
            "</tbody></table>")


def _red_line_cell(r: dict) -> str:
    firings = r.get("mean_firings")
    return f"{_pct(r['fired'])} / {_pct(r['enforced'])}" + ("" if firings is None else f" · {firings:.2f}")


def _mechanisms_section(data: ReportInput) -> str:
    """Per red line: share of runs fired / carried out and mean firings; per action: mean count."""
    if not data.datasets:
        return ""
    labelled = _labelled(data)
    red = {n: red_line_summary(ds) for n, ds in labelled.items()}
    acts = {n: action_summary(ds) for n, ds in labelled.items()}
    head = "".join(f"<th>{escape(n or 'run')}</th>" for n in labelled)
    parts = []
    lines = list(next(iter(red.values())))
    if lines:
        rows = []
        for rid in lines:
            cells = "".join(f'<td class="num">{_red_line_cell(red[n][rid])}</td>' for n in red)
            rows.append(f"<tr><td>{_element_link('red_lines', rid, data)}</td>{cells}</tr>")
        parts.append(f"<h3>Red lines: share of runs in which each fired / was carried out · mean firings per run</h3>"
                     f"<table><thead><tr><th>red line</th>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>")
    actions = list(next(iter(acts.values())))
    if actions:
        rows = []
        for aid in actions:
            cells = "".join(f'<td class="num">{acts[n][aid]["mean_count"]:.2f} ({_pct(acts[n][aid]["share_taken"])})</td>'
                            for n in acts)
            rows.append(f"<tr><td>{escape(aid)}</td>{cells}</tr>")
        parts.append(f"<h3>Actions: mean times taken per run (share of runs)</h3>"
                     f"<table><thead><tr><th>action</th>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>")
    if not parts:
        return ""
    return ('<h2 id="mechanisms">Mechanisms: how often red lines fired and actions were taken</h2>'
            '<p class="muted">The counts behind the probabilities above: a red line <em>fires</em> when its '
            "condition holds while it can fire, and is <em>carried out</em> when its owner answers.</p>"
            + "".join(parts))


def build_html(data: ReportInput | str | Path) -> str:
    """The report as one self-contained HTML document."""
    if not isinstance(data, ReportInput):
        data = load_input(data)
    blocks = _blocks(data)
    sections = [
        _outcomes_section(data, blocks),
        _mechanisms_section(data),
        _cumulative_section(data),
        _fan_section(data) + _final_state_section(data),
        _sensitivity_section(data),
        _calibration_section(data),
        _posterior_section(data),
        _structure_section(data),
        _provenance_section(data),
    ]
    nav_items = [("outcomes", "Outcomes"), ("mechanisms", "Mechanisms"), ("timing", "Timing"), ("state", "State"), ("sensitivity", "Sensitivity"),
                 ("calibration", "Calibration"), ("posterior", "Fit to the record"), ("structure", "Scenario"), ("provenance-h", "Provenance")]
    body = "".join(sections)
    nav = "".join(f'<a href="#{i}">{t}</a>' for i, t in nav_items if f'id="{i}"' in body)
    title = escape(data.loaded.spec.meta.title if data.loaded is not None else data.summary.get("scenario", "report"))

    return (f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
            f'<meta name="viewport" content="width=device-width,initial-scale=1">'
            f"<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; "
            f"script-src 'unsafe-inline'; img-src data:\">"
            f"<title>{title} — redline report</title><style>{_CSS}</style></head><body><main>"
            f"{_header(data)}<nav>{nav}</nav>{body}"
            f"<footer>Generated by redline {escape(str(version))} from {escape(data.source or 'results in memory')}. "
            f"Self-contained: opening this file makes no network request.</footer>"
            f"</main><script>{_JS}</script></body></html>")


def build_figures(data: ReportInput) -> list[tuple[str, Any]]:
    """(name, matplotlib Figure) for each chart, for PDF and PNG output."""
    figs = []
    blocks = _blocks(data)
    if blocks:
        figs.append(("outcomes", F.outcome_bars(blocks)))
    if data.datasets:
        figs.append(("timing", F.cumulative_chart(_labelled(data), as_of=_as_of(data))))
        if "trajectory" in next(iter(data.datasets.values())):
            variables = fan_variables(data)
            if variables:
                figs.append(("state", F.fan_charts(_labelled(data), variables, as_of=_as_of(data))))
    if data.sensitivity:
        figs.append(("sensitivity", F.sensitivity_bars(data.sensitivity)))
    if data.prim_boxes:
        figs.append(("prim", F.prim_boxes(data.prim_boxes, data.input_ranges)))
    if data.calibration:
        figs.append(("calibration", F.calibration_plot(data.calibration["forecasts"], data.calibration["outcomes"])))
    if data.posterior is not None:
        figs.extend(_posterior_figures(data.posterior))
    return figs


def write_report(result: str | Path | ReportInput, out: str | Path, *, format: str | None = None) -> list[Path]:
    """Write a report; returns the files written.

    ``html`` (default, or from the ``.html`` suffix): one self-contained file. ``pdf``: one page
    per figure (matplotlib). ``png``: one PNG per figure, ``<stem>-<figure>.png`` beside ``out``.
    """
    out = Path(out)
    fmt = (format or out.suffix.lstrip(".") or "html").lower()
    if fmt not in FORMATS:
        raise ParameterError(f"unknown report format '{fmt}' (formats: {', '.join(FORMATS)})")
    data = result if isinstance(result, ReportInput) else load_input(result)
    if fmt == "html":
        atomic_write_text(out, build_html(data))
        return [out]
    figs = build_figures(data)
    if not figs:
        raise ParameterError("this result has no charts to export; use --format html")
    if fmt == "pdf":
        import io

        from matplotlib.backends.backend_pdf import PdfPages

        buf = io.BytesIO()
        with PdfPages(buf, metadata={"Title": f"redline report: {data.summary.get('scenario', '')}",
                                     "CreationDate": None}) as pdf:
            for _, fig in figs:
                pdf.savefig(fig)
        atomic_write_bytes(out.with_suffix(".pdf") if out.suffix != ".pdf" else out, buf.getvalue())
        return [out if out.suffix == ".pdf" else out.with_suffix(".pdf")]
    written = []
    for name, fig in figs:
        path = out.with_name(f"{out.stem}-{name}.png")
        atomic_write_bytes(path, F.to_png(fig))
        written.append(path)
    return written
