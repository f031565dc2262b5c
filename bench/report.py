"""Turn the raw figures into ``results.json``, ``results.md`` and ``chart.png``."""

from __future__ import annotations

import json
import statistics
from importlib import metadata
from pathlib import Path
from typing import Any

PACKAGES = [
    "django",
    "djangorestframework",
    "adrf",
    "django-ninja",
    "asgiref",
    "uvicorn",
    "gunicorn",
]
TARGET_ORDER = [
    "drf",
    "adrf",
    "drf-restflow",
    "ninja",
    "restflow",
    "restflow-drf",
    "restflow+asgi",
    "django-async",
]
LABELS = {
    "sync_hooks": "trivial GET, sync auth+perm+throttle",
    "async_hooks": "trivial GET, async auth+perm+throttle",
    "bare": "trivial GET, no hooks",
    "list": "list, 20/page of 1,000",
    "list_latest": "list + latest review",
    "retrieve": "retrieve",
    "create": "create",
    "update": "update (PATCH)",
    "delete": "delete",
}


COLORS = dict(
    zip(
        TARGET_ORDER,
        ["#d62728", "#ff7f0e", "#8c564b", "#e377c2", "#2ca02c", "#17becf", "#1f77b4", "#9467bd"],
        strict=True,
    )
)


def versions() -> dict[str, str]:
    found = {}
    for name in PACKAGES:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            found[name] = "-"
    return found


def _ratio(medians: dict[str, list[float]], a: str, b: str) -> dict[str, Any] | None:
    if a not in medians or b not in medians:
        return None
    per_round = [x / y for x, y in zip(medians[a], medians[b], strict=True)]
    return {"median": statistics.median(per_round), "per_round": per_round}


def _served_ratio(served: dict[str, Any], level: str, a: str, b: str) -> dict[str, Any] | None:
    runs = served.get(level, {})
    if a not in runs or b not in runs:
        return None
    per_round = [x["rps"] / y["rps"] for x, y in zip(runs[a], runs[b], strict=True)]
    return {"median": statistics.median(per_round), "per_round": per_round}


def _served_tail(served: dict[str, Any], level: str, target: str) -> dict[str, Any] | None:
    """p99 / p50 latency of ``target`` per round (older results have no p50)."""
    runs = served.get(level, {}).get(target, [])
    if not runs or any("p50_ms" not in run for run in runs):
        return None
    per_round = [run["p99_ms"] / run["p50_ms"] for run in runs]
    return {"median": statistics.median(per_round), "per_round": per_round}


def targets(data: dict[str, Any]) -> list[dict[str, Any]]:
    """The issue's targets, each with the measured ratio (median of the per-round ratios)."""
    medians = data["in_process"]["medians_us"]
    counts = data["in_process"]["counts"]
    pool, stock = "restflow+asgi", "restflow"
    rows: list[tuple[str, dict[str, Any] | None, str, float]] = [
        (
            f"{LABELS[scenario]}: restflow / adrf",
            _ratio(medians[scenario], "restflow", "adrf"),
            "<=",
            0.75,
        )
        for scenario in ("sync_hooks", "async_hooks", "bare")
    ]
    # The list targets hold twice: with restflow's ModelSerializer ("restflow") and with
    # DRF's own ("restflow-drf", what every other target uses).
    for own in ("restflow", "restflow-drf"):
        if own not in medians["list"]:
            continue
        latest = {"a": medians["list_latest"][own], "b": medians["list"][own]}
        rows += [
            (
                f"list: {own} / drf-restflow",
                _ratio(medians["list"], own, "drf-restflow"),
                "<=",
                0.7,
            ),
            (
                f"list: {own} / plain async Django view (hand-built dicts)",
                _ratio(medians["list"], own, "django-async"),
                "<=",
                1.0,
            ),
            (f"list + PostFetch / list ({own})", _ratio(latest, "a", "b"), "<=", 1.15),
            (
                f"list + PostFetch: {own} / drf-restflow",
                _ratio(medians["list_latest"], own, "drf-restflow"),
                "<=",
                0.8,
            ),
        ]
    rows += [
        (
            f"{LABELS[scenario]}: restflow.asgi / stock handler",
            _ratio(medians[scenario], pool, stock),
            "<=",
            0.55,
        )
        for scenario in ("sync_hooks", "async_hooks", "bare")
    ]
    served = data.get("served", {})
    top = max(served, key=int) if served else None
    if top is not None:
        rows += [
            (
                f"served c={top}: restflow.asgi / {peer} (req/s)",
                _served_ratio(served, top, pool, key),
                ">=",
                goal,
            )
            for peer, key, goal in (("DRF sync threaded", "drf", 1.4), ("adrf", "adrf", 5.0))
        ]
        rows += [
            (
                f"served c={level}: restflow.asgi p99 / p50",
                _served_tail(served, level, pool),
                "<=",
                3.0,
            )
            for level in served
            if int(level) >= 200
        ]
    out = []
    for name, ratio, op, goal in rows:
        if ratio is None:
            continue
        value = ratio["median"]
        met = value <= goal if op == "<=" else value >= goal
        out.append(
            {
                "target": name,
                "goal": f"{op} {goal}",
                "ratio": value,
                "per_round": ratio["per_round"],
                "met": met,
            }
        )
    extra = counts["list_latest"]["restflow"]["queries"] - counts["list"]["restflow"]["queries"]
    out.append(
        {
            "target": "list + PostFetch: extra queries",
            "goal": "== 1",
            "ratio": extra,
            "per_round": [],
            "met": extra == 1,
        }
    )
    return out


def _markdown(data: dict[str, Any], checks: list[dict[str, Any]]) -> str:
    medians = data["in_process"]["medians_us"]
    counts = data["in_process"]["counts"]
    meta = data["meta"]
    lines = [
        "# restflow benchmarks",
        "",
        f"`python -m bench{' --quick' if meta['quick'] else ''}` — {meta['seconds']} s, "
        f"Python {meta['python']}, {meta['machine']}; "
        + ", ".join(f"{k} {v}" for k, v in meta["versions"].items()),
        "",
        "## In-process, through Django's handler",
        "",
        "Median µs per request (median of the per-round batch medians), and the ratio to DRF "
        "sync (median of per-round ratios). `restflow+asgi` is restflow under "
        "`restflow.asgi`; every other async target runs under Django's stock ASGI handler, DRF "
        "under its WSGI handler. `drf-restflow` (the peer whose import name is also "
        "`restflow`) runs in its own venv with the same Django, DRF and asgiref; `ninja` "
        "(django-ninja, async operations) is informational and, like `django-async`, only "
        "has the trivial GET and the lists. Cells: `µs (x DRF) · queries · hops (restflow's "
        "own)`.",
        "",
        "| scenario | " + " | ".join(TARGET_ORDER) + " |",
        "|---|" + "---|" * len(TARGET_ORDER),
    ]
    for scenario, per_target in medians.items():
        cells = []
        for target in TARGET_ORDER:
            if target not in per_target:
                cells.append("—")
                continue
            us = statistics.median(per_target[target])
            ratio = _ratio(per_target, target, "drf")
            count = counts[scenario][target]
            own = f" ({count['restflow_hops']:g})" if target.startswith("restflow") else ""
            cells.append(
                f"{us:,.0f} (x{ratio['median'] if ratio else float('nan'):.2f}) · "
                f"{count['queries']:g} · {count['hops']:g}{own}"
            )
        lines.append(f"| {LABELS.get(scenario, scenario)} | " + " | ".join(cells) + " |")
    served = data.get("served")
    if served:
        lines += [
            "",
            "## Served on 127.0.0.1: 50 ms I/O endpoint, one server process, wrk",
            "",
            f"uvicorn (uvloop, httptools) for the async targets, restflow.asgi on "
            "`--loop restflow.asgi:eager_uvloop` as the deployment guide recommends; "
            "gunicorn gthread with "
            f"{meta['drf_threads']} threads for DRF sync (`time.sleep`). Median req/s over rounds "
            "(p50 / p99 latency, socket errors + non-2xx).",
            "",
            "| connections | " + " | ".join(served[next(iter(served))]) + " |",
            "|---|" + "---|" * len(served[next(iter(served))]),
        ]
        for level, per_target in served.items():
            cells = []
            for runs in per_target.values():
                rps = statistics.median(r["rps"] for r in runs)
                p50 = statistics.median(r.get("p50_ms", float("nan")) for r in runs)
                p99 = statistics.median(r["p99_ms"] for r in runs)
                errors = sum(r["errors"] for r in runs)
                cells.append(f"{rps:,.0f} ({p50:,.0f} / {p99:,.0f} ms, {errors:g})")
            lines.append(f"| {level} | " + " | ".join(cells) + " |")
    lines += [
        "",
        "## Targets",
        "",
        "| target | goal | measured | per round | met |",
        "|---|---|---|---|---|",
    ]
    for check in checks:
        rounds = ", ".join(f"{x:.2f}" for x in check["per_round"])
        lines.append(
            f"| {check['target']} | {check['goal']} | {check['ratio']:.2f} | {rounds} | "
            f"{'yes' if check['met'] else '**no**'} |"
        )
    return "\n".join(lines) + "\n"


def _chart(data: dict[str, Any], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    medians = data["in_process"]["medians_us"]
    served = data.get("served", {})
    figure, axes = plt.subplots(
        1, 2 if served else 1, figsize=(15 if served else 10, 5.5), squeeze=False
    )
    ax = axes[0][0]
    scenarios = list(medians)
    width = 0.8 / len(TARGET_ORDER)
    for i, target in enumerate(TARGET_ORDER):
        xs, ys = [], []
        for j, scenario in enumerate(scenarios):
            if target in medians[scenario]:
                xs.append(j + (i - len(TARGET_ORDER) / 2 + 0.5) * width)
                ys.append(statistics.median(medians[scenario][target]))
        ax.bar(xs, ys, width, label=target, color=COLORS[target])
    ax.set_yscale("log")
    ax.set_xticks(range(len(scenarios)))
    ax.set_xticklabels([s.replace("_", "\n") for s in scenarios], fontsize=8)
    ax.set_ylabel("µs per request (median, log scale; lower is better)")
    ax.set_title("In-process, through Django's handler")
    ax.legend(fontsize=8)
    if served:
        ax = axes[0][1]
        levels = list(served)
        names = list(served[levels[0]])
        width = 0.8 / len(names)
        for i, target in enumerate(names):
            xs = [j + (i - len(names) / 2 + 0.5) * width for j in range(len(levels))]
            ys = [statistics.median(r["rps"] for r in served[level][target]) for level in levels]
            ax.bar(xs, ys, width, label=target, color=COLORS[target])
        ax.set_xticks(range(len(levels)))
        ax.set_xticklabels([f"c={level}" for level in levels])
        ax.set_ylabel("requests/s (higher is better)")
        ax.set_title("Served, 50 ms I/O endpoint, 1 process")
        ax.legend(fontsize=8)
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)


def write(data: dict[str, Any], out: Path) -> None:
    checks = targets(data)
    data["targets"] = checks
    (out / "results.json").write_text(json.dumps(data, indent=2) + "\n")
    (out / "results.md").write_text(_markdown(data, checks))
    _chart(data, out / "chart.png")
