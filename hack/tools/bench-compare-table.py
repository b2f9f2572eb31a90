#!/usr/bin/env python3
"""The Markdown table of hack/bench-compare.sh, from its JSON lines.

Usage: bench-compare-table.py RESULTS.jsonl NOTE
Each figure is the median over the repetitions (the raw figures stay in the
JSON lines). A figure marked * comes from a run that did not see every CSR
decided before its timeout.
"""
import json
import statistics
import sys

COLS = [("ours", "csr-approver"), ("peer", "kubelet-csr-approver"),
        ("floor1", "floor (1 writer)"), ("floor32", "floor (32 writers)")]


def main():
    path, note = sys.argv[1], sys.argv[2]
    rows = [json.loads(l) for l in open(path) if l.strip()]
    data = {}  # (approver, workload) -> [r, ...]
    for row in rows:
        data.setdefault((row["approver"], row["workload"]), []).append(row["r"])
    workloads = []
    for row in rows:
        w = row["workload"]
        if w != "process" and row["approver"] != "ours-wl" and w not in workloads:
            workloads.append(w)

    def med(approver, workload, get):
        vals, flagged = [], False
        for r in data.get((approver, workload), []):
            v = get(r)
            if v is None or v < 0:
                continue
            vals.append(v)
            if workload != "process" and (r.get("timed_out") or r.get("decided", 0) < r.get("count", 0)):
                flagged = True
        if not vals:
            return None, False
        return statistics.median(vals), flagged

    def fmt(v, flagged, digits):
        if v is None:
            return "–"
        s = f"{v:,.{digits}f}"
        return s + ("*" if flagged else "")

    def ratio(a, b):
        if a is None or b is None or b == 0:
            return "–"
        return f"{a / b:.2f}"

    out = []
    out.append("| figure | " + " | ".join(c[1] for c in COLS) + " | ours/peer | ours/floor(32) |")
    out.append("|---|" + "---:|" * (len(COLS) + 2))

    def line(label, workload, get, digits, approvers=None):
        vals = {}
        cells = []
        for key, _ in COLS:
            a = key if approvers is None else approvers.get(key)
            v, f = med(a, workload, get) if a else (None, False)
            vals[key] = v
            cells.append(fmt(v, f, digits))
        if all(v is None for v in vals.values()):
            return
        out.append(f"| {label} | " + " | ".join(cells) + f" | {ratio(vals['ours'], vals['peer'])} | "
                   f"{ratio(vals['ours'], vals['floor32'])} |")

    for w in workloads:
        if w.startswith("other"):
            n = w.split()[1]
            line(f"burst {n} + a second client: its creates/s during the burst", w,
                 lambda r: r.get("other_rate"), 1)
            line(f"burst {n} + a second client: its creates/s while the burst's creates ran", w,
                 lambda r: r.get("other_rate_while_creating"), 1)
            line(f"burst {n} + a second client: its creates/s after them, until all decided", w,
                 lambda r: r.get("other_rate_after_creates"), 1)
            line(f"burst {n} + a second client: first create → all decided (s)", w,
                 lambda r: r.get("makespan_s"), 2)
            continue
        line(f"{w}: first create → all decided (s)", w, lambda r: r.get("makespan_s"), 2)
        line(f"{w}: create → decided p50 (ms)", w, lambda r: r.get("p50_ms"), 0)
        line(f"{w}: create → decided p99 (ms)", w, lambda r: r.get("p99_ms"), 0)
        line(f"{w}: approver CPU per decision (ms)", w, lambda r: r.get("approver_cpu_ms_per_decision"), 2)
        line(f"{w}: API server CPU per decision (ms)", w, lambda r: r.get("apiserver_cpu_ms_per_decision"), 2)
    p = "process"
    line("TLS connections opened to the API server (whole run)", p,
         lambda r: r["summary"].get("api_connections"), 0)
    line("most connections open at once", p, lambda r: r["summary"].get("api_connections_max_open"), 0)
    line("idle RSS after start (MiB)", p, lambda r: r.get("idle_rss_kb", -1024) / 1024, 1)
    line("peak RSS, VmHWM (MiB)", p, lambda r: r.get("peak_rss_kb", -1024) / 1024, 1)
    line("start → /readyz 200 (ms)", p, lambda r: r["status"].get("ready_ms"), 0)
    line("start → first decision of a waiting CSR (ms)", p, lambda r: r["status"].get("first_decision_ms"), 0)

    wl = [w for (a, w) in data if a == "ours-wl" and w != "process"]
    if wl:
        w = wl[0]
        out.append("")
        out.append(f"csr-approver alone, workload policy (the others have none), {w.split()[1]} pods cached:")
        out.append("")
        out.append("| figure | csr-approver |")
        out.append("|---|---:|")

        def one(label, workload, get, digits):
            v, f = med("ours-wl", workload, get)
            out.append(f"| {label} | {fmt(v, f, digits)} |")
        one(f"{w}: first create → all decided (s)", w, lambda r: r.get("makespan_s"), 2)
        one(f"{w}: create → decided p50 (ms)", w, lambda r: r.get("p50_ms"), 0)
        one(f"{w}: create → decided p99 (ms)", w, lambda r: r.get("p99_ms"), 0)
        one(f"{w}: approver CPU per decision (ms)", w, lambda r: r.get("approver_cpu_ms_per_decision"), 2)
        one(f"{w}: API server CPU per decision (ms)", w, lambda r: r.get("apiserver_cpu_ms_per_decision"), 2)
        one("TLS connections opened to the API server", p, lambda r: r["summary"].get("api_connections"), 0)
        one("idle RSS after start (MiB)", p, lambda r: r.get("idle_rss_kb", -1024) / 1024, 1)
        one("peak RSS, VmHWM (MiB)", p, lambda r: r.get("peak_rss_kb", -1024) / 1024, 1)
        one("start → /readyz 200 (ms)", p, lambda r: r["status"].get("ready_ms"), 0)

    print("\n".join(out))
    print()
    print(f"Medians over the repetitions; {note}. "
          "Ready: csr-approver's /readyz; for every approver, also the first decision of a CSR "
          "that was waiting before it started. * : not every CSR was decided before the timeout.")


if __name__ == "__main__":
    main()
