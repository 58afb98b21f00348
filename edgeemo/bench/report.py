"""Bench results as a rich console table, Markdown, JSON, and a side-by-side comparison of two runs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from edgeemo.errors import ConfigError
from edgeemo.fileio import read_json, write_json, write_text

__all__ = [
    "compare_rows",
    "make_console",
    "load_result",
    "markdown_report",
    "print_compare",
    "print_table",
    "save_json",
    "save_markdown",
]


def make_console() -> Any:
    """A rich console; piped or logged output gets a wide one so tables are not squeezed to 80 columns."""
    from rich.console import Console

    console = Console()
    return console if console.is_terminal else Console(width=200)


def _fmt(value: Any, spec: str = ".3f", none: str = "-") -> str:
    if value is None:
        return none
    return format(value, spec)


def _artifacts(result: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {a["name"]: a for a in result["artifacts"]}


def _rows(result: dict[str, Any]) -> list[dict[str, str]]:
    arts = _artifacts(result)
    rows = []
    for r in result["results"]:
        a = arts[r["artifact"]]
        acc = a.get("accuracy") or {}
        mem = a.get("memory") or {}
        inv = r["invoke"]
        rows.append({
            "artifact": r["artifact"],
            "thr": str(r["threads"]),
            "batch": str(r["batch"]),
            "p50 ms": _fmt(inv["p50_ms"]),
            "p90 ms": _fmt(inv["p90_ms"]),
            "p99 ms": _fmt(inv["p99_ms"]),
            "mean ms": _fmt(inv["mean_ms"]),
            "spread %": _fmt(r["p50_spread_pct"], ".1f"),
            "img/s": _fmt(inv["throughput_ips"], ".0f"),
            "pre+post ms": _fmt(r["pre"]["p50_ms"] + r["post"]["p50_ms"]),
            "GMAC/s": _fmt(r.get("gmacs"), ".2f"),
            "% peak": _fmt(r["fraction_of_peak"] * 100 if r.get("fraction_of_peak") else None, ".1f"),
            "load ms": _fmt((mem.get("load_ms") if "load_ms" in mem else r["load_ms"]), ".1f"),
            "RSS MB": _fmt(mem.get("model_rss_mb"), ".1f"),
            "size KB": _fmt(a["file_bytes"] / 1024, ".1f"),
            "acc %": _fmt(acc["accuracy"] * 100 if "accuracy" in acc else None, ".2f"),
            "drop pp": _fmt(acc.get("drop_pp"), "+.2f"),
            "agree %": _fmt(acc["agreement"] * 100 if acc.get("agreement") is not None else None, ".2f"),
        })
    return rows


# Columns kept out of the console table so it fits a terminal; Markdown and JSON have them.
_MD_ONLY = ("mean ms", "load ms", "pre+post ms")


def _peak_rows(result: dict[str, Any]) -> list[dict[str, str]]:
    rows = []
    for p in result.get("peaks", []):
        rows.append({
            "runtime": p["runtime"],
            "probe": p["precision"],
            "thr": str(p["threads"]),
            "p50 ms": _fmt(p.get("p50_ms")),
            "GMAC/s": _fmt(p.get("gmacs"), ".1f") if "gmacs" in p else f"error: {p.get('error', '')[:60]}",
        })
    return rows


def _machine_line(result: dict[str, Any]) -> str:
    m = result["machine"]
    pk = ", ".join(f"{k} {v}" for k, v in m.get("packages", {}).items())
    board = f"{m['board']}, " if m.get("board") else ""
    return (f"{board}{m['cpu_model']} ({m['arch']}, {m['usable_cores']} usable cores, "
            f"features: {' '.join(m.get('cpu_features') or []) or 'n/a'}); {m['os']}; Python {m['python']}; {pk}")


def print_table(result: dict[str, Any], console: Any = None) -> None:
    from rich.table import Table

    console = console or make_console()
    cfg = result["config"]
    table = Table(title=f"edgeemo bench: {cfg['runs']} runs in {cfg['repeats']} repeats after {cfg['warmup']} warm-up, "
                  f"inputs: {cfg['inputs']}", show_lines=False)
    rows = _rows(result)
    cols = [c for c in (rows[0] if rows else {"artifact": ""}) if c not in _MD_ONLY]
    for col in cols:
        table.add_column(col, justify="left" if col == "artifact" else "right", no_wrap=True)
    for row in rows:
        table.add_row(*(row[c] for c in cols))
    console.print(table)
    peaks = _peak_rows(result)
    if peaks:
        pt = Table(title="measured peak: one large matrix product through each runtime")
        for col in peaks[0]:
            pt.add_column(col, justify="right")
        for row in peaks:
            pt.add_row(*row.values())
        console.print(pt)
    console.print(f"machine: {_machine_line(result)}")
    for line in auto_choice_lines(result):
        console.print(line)
    for s in result.get("skipped", []):
        console.print(f"[yellow]skipped[/] {s['path']}: {s['reason']}")
    for note in result.get("notes", []):
        console.print(f"note: {note}")
    for a in result["artifacts"]:
        for note in a.get("notes", []):
            console.print(f"note ({a['name']}): {note}")


def auto_choice_lines(result: dict[str, Any]) -> list[str]:
    """One line per bundle: the model `edgeemo run --model auto` would keep on this machine."""
    return [f"--model auto for {c['bundle']} at {c['threads']} thread(s): {c['model']} ({c['reason']})"
            for c in result.get("auto_choice", [])]


def _md_table(rows: list[dict[str, str]]) -> str:
    if not rows:
        return "(none)\n"
    cols = list(rows[0])
    lines = ["| " + " | ".join(cols) + " |", "|" + "|".join("---" if c == cols[0] else "---:" for c in cols) + "|"]
    lines += ["| " + " | ".join(r[c] for c in cols) + " |" for r in rows]
    return "\n".join(lines) + "\n"


def markdown_report(result: dict[str, Any], *, plot_names: list[str] | None = None) -> str:
    cfg = result["config"]
    data = cfg.get("data")
    parts = [
        "# edgeemo bench\n",
        f"Run {result['created']}. Machine: {_machine_line(result)}.\n",
        f"Load average at start: {result['machine'].get('loadavg_1m_at_start')}. "
        f"Threads {cfg['threads']}, batches {cfg['batches']}, {cfg['runs']} timed runs per cell in {cfg['repeats']} "
        f"interleaved repeats after {cfg['warmup']} warm-up runs. Inputs: {cfg['inputs']}"
        + (f" ({data['root']}, split {data['split']}, {data['images']} images)" if data else "") + ".\n",
        "## Latency, throughput, memory, accuracy\n",
        _md_table(_rows(result)),
        "\nLatency is the runtime call alone; pre+post is normalise/quantize plus dequantize/softmax. "
        "Spread is the run-to-run range of p50 across repeats. Drop is in percentage points against the "
        "float reference of the same model; agreement is top-1 agreement with it.\n",
        "## Measured peak\n",
        _md_table(_peak_rows(result)),
        "\n## Method\n",
        "".join(f"- {k}: {v}\n" for k, v in result["method"].items()),
    ]
    extra = [f"- skipped {s['path']}: {s['reason']}" for s in result.get("skipped", [])]
    extra += [f"- {n}" for n in result.get("notes", [])]
    extra += [f"- {line}" for line in auto_choice_lines(result)]
    extra += [f"- {a['name']}: {n}" for a in result["artifacts"] for n in a.get("notes", [])]
    if extra:
        parts += ["\n## Notes\n", "\n".join(extra) + "\n"]
    if result.get("pipeline"):
        from edgeemo.bench.pipeline import pipeline_markdown

        parts += ["\n", pipeline_markdown(result["pipeline"])]
    if plot_names:
        parts += ["\n## Plots\n", "".join(f"![{n}]({n})\n" for n in plot_names)]
    return "\n".join(parts)


def save_json(result: dict[str, Any], path: str | Path) -> Path:
    return write_json(path, result)


def save_markdown(result: dict[str, Any], path: str | Path, *, plot_names: list[str] | None = None) -> Path:
    return write_text(path, markdown_report(result, plot_names=plot_names))


def load_result(path: str | Path) -> dict[str, Any]:
    data = read_json(path, "a bench JSON file")
    if not isinstance(data, dict) or data.get("format") != "edgeemo-bench/1":
        raise ConfigError(f"expected a file written by `edgeemo bench --json` (format edgeemo-bench/1), received {path}")
    return data


def compare_rows(a: dict[str, Any], b: dict[str, Any]) -> list[dict[str, Any]]:
    """Cells present in both runs, matched on (artifact, threads, batch); ratio is B / A."""
    index = {(r["artifact"], r["threads"], r["batch"]): r for r in a["results"]}
    arts_a, arts_b = _artifacts(a), _artifacts(b)
    rows = []
    for rb in b["results"]:
        key = (rb["artifact"], rb["threads"], rb["batch"])
        ra = index.get(key)
        if ra is None:
            continue
        pa, pb = ra["invoke"]["p50_ms"], rb["invoke"]["p50_ms"]
        acc_a = (arts_a[key[0]].get("accuracy") or {}).get("accuracy")
        acc_b = (arts_b[key[0]].get("accuracy") or {}).get("accuracy")
        rows.append({
            "artifact": key[0], "threads": key[1], "batch": key[2],
            "p50_a_ms": pa, "p50_b_ms": pb, "p50_ratio": pb / pa if pa else None,
            "p99_ratio": rb["invoke"]["p99_ms"] / ra["invoke"]["p99_ms"] if ra["invoke"]["p99_ms"] else None,
            "spread_a_pct": ra["p50_spread_pct"], "spread_b_pct": rb["p50_spread_pct"],
            "acc_diff_pp": (acc_b - acc_a) * 100 if acc_a is not None and acc_b is not None else None,
        })
    return rows


def print_compare(a: dict[str, Any], b: dict[str, Any], names: tuple[str, str], console: Any = None) -> list[dict]:
    from rich.table import Table

    console = console or make_console()
    rows = compare_rows(a, b)
    table = Table(title=f"A = {names[0]}  vs  B = {names[1]}  (ratio B/A; >1 means B is slower)")
    for col in ("artifact", "thr", "batch", "p50 A ms", "p50 B ms", "p50 B/A", "p99 B/A", "spread A %", "spread B %",
                "acc B-A pp"):
        table.add_column(col, justify="left" if col == "artifact" else "right")
    for r in rows:
        table.add_row(r["artifact"], str(r["threads"]), str(r["batch"]), _fmt(r["p50_a_ms"]), _fmt(r["p50_b_ms"]),
                      _fmt(r["p50_ratio"], ".2f"), _fmt(r["p99_ratio"], ".2f"), _fmt(r["spread_a_pct"], ".1f"),
                      _fmt(r["spread_b_pct"], ".1f"), _fmt(r["acc_diff_pp"], "+.2f"))
    console.print(table)
    console.print(f"A: {_machine_line(a)}")
    console.print(f"B: {_machine_line(b)}")
    if not rows:
        console.print("no artifact appears in both runs with the same threads and batch")
    return rows
