#!/usr/bin/env bash
# One huge text node (issue 18, not a test): a JUnit file whose one <system-out> holds 300 MB,
# as plain text, as a CDATA section and as text full of entity references. Each must run in the
# same memory bound as the rest of a run (peak RSS ≤ 64 MB). Release musl build (the shipped
# binary), measured from the child's own rusage; the inputs are generated once into bench/work/.
#   bench/text-node.sh [MB]      # default 300
set -euo pipefail
cd "$(dirname "$0")/.."
mb=${1:-300}
. bench/shipped.sh
bin=$shipped
work=bench/work/text-node-$mb
mkdir -p "$work"
python3 - "$work" "$mb" <<'PY'
import os, sys
work, mb = sys.argv[1], int(sys.argv[2])
lines = {
    "plain": ("", "", "INFO a plain log line without markup 0123456789 abcdefghijklmnopqrstuvwxyz\n"),
    "cdata": ("<![CDATA[", "]]>", "INFO a <log> line & more in CDATA [not a marker] 0123456789 abcdefghijklm\n"),
    "entities": ("", "", "INFO a log line &amp; &lt;escaped&gt; entities &amp;amp; 0123456789 abcdefghij\n"),
}
for name, (open_, close, line) in lines.items():
    path = os.path.join(work, name + ".xml")
    if os.path.exists(path):
        continue
    with open(path + ".tmp", "w") as f:
        f.write('<testsuite name="s"><testcase classname="c" name="t"><system-out>' + open_)
        chunk = line * 10000
        for _ in range(mb * 1_000_000 // len(chunk)):
            f.write(chunk)
        f.write(close + "</system-out></testcase></testsuite>\n")
    os.replace(path + ".tmp", path)
PY
for name in plain cdata entities; do
  python3 - "$bin" "$work/$name.xml" "$name" <<'PY'
import os, subprocess, sys, time
binary, path, name = sys.argv[1:]
start = time.perf_counter()
p = subprocess.Popen([binary, "report", "--results", path, "--format", "json"],
                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
_, status, usage = os.wait4(p.pid, 0)
wall = time.perf_counter() - start
rss = usage.ru_maxrss / 1024
code = os.waitstatus_to_exitcode(status)
print(f"{name:9} {os.path.getsize(path) / 1e6:.0f} MB  exit {code}  {wall:.2f} s  peak RSS {rss:.0f} MB"
      + ("" if rss <= 64 else "  (over 64 MB)"))
PY
done
