#!/usr/bin/env python3
"""Fails if the modules of a crate import each other in a cycle.

For every crate of the workspace (the root package's src/ and crates/*/src/), each .rs file is
a module; an edge a -> b is a path `crate::b...` (or `super::...` resolved) mentioned in a's
code, comments and strings excluded, tests (`#[cfg(test)] mod ...`) excluded. Edges to a
module's own ancestors (`mod.rs`/`lib.rs` re-exports) are kept: a parent that is imported by
its child and imports it back is a cycle too. Prints every cycle found (strongly connected
components of more than one module) and exits 1; prints the module count and exits 0 when
there is none. Run by scripts/test.
"""

import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def crates():
    yield "controlgate", ROOT / "src"
    for d in sorted((ROOT / "crates").iterdir()):
        if (d / "src").is_dir():
            yield d.name, d / "src"


def module_of(src: Path, f: Path) -> tuple:
    rel = f.relative_to(src).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] in ("mod", "lib", "main"):
        parts = parts[:-1]
    return tuple(parts)


def strip(code: str) -> str:
    """Drops comments, string literals and #[cfg(test)] modules."""
    code = re.sub(r'r#*"(?:.|\n)*?"#*', '""', code)
    code = re.sub(r'"(?:\\.|[^"\\])*"', '""', code)
    code = re.sub(r"//[^\n]*", "", code)
    code = re.sub(r"/\*(?:.|\n)*?\*/", "", code)
    out, i = [], 0
    for m in re.finditer(r"#\[cfg\(test\)\]\s*mod\s+\w+\s*\{", code):
        if m.start() < i:
            continue
        out.append(code[i : m.start()])
        depth, j = 1, m.end()
        while j < len(code) and depth:
            depth += {"{": 1, "}": -1}.get(code[j], 0)
            j += 1
        i = j
    out.append(code[i:])
    return "".join(out)


def resolve(known: set, base: tuple) -> tuple:
    """The longest known module that is a prefix of `base`."""
    for n in range(len(base), -1, -1):
        if base[:n] in known:
            return base[:n]
    return ()


def graph(src: Path):
    files = {module_of(src, f): f for f in src.rglob("*.rs")}
    known = set(files)
    edges = {m: set() for m in files}
    for m, f in files.items():
        code = strip(f.read_text())
        # `use crate::{a, b::c}` groups are expanded one level.
        for grp in re.finditer(r"\bcrate::\{([^}]*)\}", code):
            for item in grp.group(1).split(","):
                path = tuple(p for p in item.strip().split("::") if p and p.isidentifier())
                if path:
                    edges[m].add(resolve(known, path))
        for ref in re.finditer(r"\bcrate((?:::\w+)+)", code):
            path = tuple(ref.group(1).strip(":").split("::"))
            edges[m].add(resolve(known, path))
        for ref in re.finditer(r"\b((?:super::)+)(\w+(?:::\w+)*)", code):
            ups = ref.group(1).count("super::")
            path = m[: max(0, len(m) - ups)] + tuple(ref.group(2).split("::"))
            edges[m].add(resolve(known, path))
        for ref in re.finditer(r"\bself::(\w+(?:::\w+)*)", code):
            edges[m].add(resolve(known, m + tuple(ref.group(1).split("::"))))
        edges[m].discard(m)
    return edges


def sccs(edges):
    index, low, stack, on, out = {}, {}, [], set(), []
    counter = [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in edges.get(v, ()):
            if w not in edges:
                continue
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            out.append(comp)

    sys.setrecursionlimit(10000)
    for v in edges:
        if v not in index:
            visit(v)
    return [c for c in out if len(c) > 1]


def main():
    bad, total = 0, 0
    for name, src in crates():
        edges = graph(src)
        # The crate root re-exports its modules: edges *to* the root are how modules reach
        # siblings' re-exported items; they are not dependencies on the root's own code.
        for m in edges:
            edges[m].discard(())
        total += len(edges)
        for comp in sccs(edges):
            bad += 1
            names = sorted("::".join(c) or "<root>" for c in comp)
            print(f"cycle in {name}: " + " <-> ".join(names))
    if bad:
        print(f"{bad} import cycle(s)")
        return 1
    print(f"no import cycle among {total} modules")
    return 0


if __name__ == "__main__":
    sys.exit(main())
