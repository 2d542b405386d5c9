#!/usr/bin/env python3
"""The speed table of bench/README.md (issue 18), measured in one run: the shipped binary (static
musl, as in the image) and the glibc build side by side with the peers users know, on
`bench/gen.py --preset big` inputs. Prints median (and best) wall time, peak RSS and
ratios; the tools take turns, one run each per round.

    bench/speed.sh [RUNS]      # builds, generates inputs, installs peers, then this

Wall time and peak RSS come from os.wait4 (the child's own rusage): no /usr/bin/time parsing.
Not a test: nothing here asserts a time."""
import json
import os
import statistics
import subprocess
import sys
import time


def run_once(cmd, cwd=None, ok=(0, 1)):
    start = time.perf_counter()
    with open(os.devnull, "wb") as null:
        p = subprocess.Popen(cmd, cwd=cwd, stdout=null, stderr=subprocess.PIPE)
        _, status, usage = os.wait4(p.pid, 0)
        err = p.stderr.read().decode(errors="replace")
    wall = time.perf_counter() - start
    code = os.waitstatus_to_exitcode(status)
    if code not in ok:
        sys.exit(f"{' '.join(cmd)} exited {code}: {err[-2000:]}")
    return wall, usage.ru_maxrss / 1024


def main():
    cfg = json.loads(sys.argv[1])
    runs = cfg["runs"]
    rows = []  # (group, label, cmd, cwd, ok)

    def row(group, label, cmd, cwd=None, ok=(0, 1)):
        rows.append((group, label, cmd, cwd, ok))

    junit, tiny = cfg["junit"], cfg["tiny_junit"]
    for name, binary in cfg["builds"]:
        row("junit", f"controlgate ({name})", [binary, "report", "--results", junit, "--format", "json"])
    if cfg.get("xmllint"):
        row("junit", "xmllint --stream (floor)", [cfg["xmllint"], "--stream", "--noout", junit])
    row("junit", "junitparser", [cfg["python"], cfg["peers"] + "/junitparser_count.py", junit], ok=(0,))
    row("junit", "EnricoMi-style (lxml+junitparser)", [cfg["python"], cfg["peers"] + "/enricomi_style.py", junit], ok=(0,))
    row("junit", "EnricoMi's reading (records as the action builds them)",
        [cfg["python"], cfg["peers"] + "/enricomi_reading.py", junit], ok=(0,))
    repo = cfg["repo"]
    for group, report in (("cobertura", cfg["cobertura"]), ("lcov", cfg["lcov"])):
        for name, binary in cfg["builds"]:
            row(group, f"controlgate ({name})",
                [binary, "report", "--results", tiny, "--coverage", report, "--base", "main",
                 "--repo", repo, "--format", "json"])
        row(group, "diff-cover", [cfg["diff_cover"], report, "--compare-branch=main", "-q"], cwd=repo, ok=(0,))

    # Round robin: every tool once per round, so a busy spell of a shared machine slows every
    # tool of that round alike instead of all the runs of one tool.
    walls = [[] for _ in rows]
    rss = [0.0 for _ in rows]
    for r in range(runs):
        for i, (group, label, cmd, cwd, ok) in enumerate(rows):
            wall, peak = run_once(cmd, cwd=cwd, ok=ok)
            walls[i].append(wall)
            rss[i] = max(rss[i], peak)
        print(f"  round {r + 1}/{runs} done", file=sys.stderr, flush=True)
    results = [(g, l, statistics.median(w), min(w), m) for (g, l, *_), w, m in zip(rows, walls, rss)]
    for group, label, wall, best, peak in results:
        print(f"  {group:<10} {label:<56} {wall:7.3f} s (best {best:.3f} s) {peak:7.1f} MB",
              file=sys.stderr, flush=True)

    print()
    print(f"| input | tool | median wall ({runs} runs) | best | peak RSS | peer ÷ shipped (median) |")
    print("| --- | --- | --: | --: | --: | --: |")
    shipped = {g: w for g, l, w, _, _ in results if l == f"controlgate ({cfg['builds'][0][0]})"}
    for group, label, wall, best, peak in results:
        ratio = "" if label.startswith("controlgate") or "floor" in label else f"{wall / shipped[group]:.1f}×"
        print(f"| {cfg['labels'][group]} | {label} | {wall:.3f} s | {best:.3f} s | {peak:.0f} MB | {ratio} |")


main()
