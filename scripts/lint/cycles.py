#!/usr/bin/env python3
"""Fails when the modules of a crate import each other in a circle.

`make lint` runs it over every crate of the workspace. A crate's modules are its files under
`src/` (`src/a.rs` and `src/a/mod.rs` are `a`, `src/a/b.rs` is `a::b`; the crate root is
`lib.rs` or `main.rs`, and each binary under `src/bin/` is a root of its own). An edge runs from
a module to every module it names in a path: `use crate::a::b::C`, `crate::a::f()` in code,
`super::x` and `self::x` resolved from where they stand. A path is taken to the deepest module it
reaches, so `use crate::a::b::C` is an edge to `a::b` when that module exists, else to `a`.

Two kinds of reference are not edges:
- `pub use` (and `pub(crate) use`): a re-export is a module's table of contents, not a need;
- a reference from a file's inline `mod tests` (`#[cfg(test)]`): tests look at what they test.

Comments, string literals and doc comments are ignored.

    python3 scripts/lint/cycles.py [CRATE_DIR ...]   (default: every crates/*/ and tests/)
"""

import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def modules(src):
    """{module path (tuple): file} for the files of one crate root's tree."""
    found = {}
    for f in sorted(src.rglob("*.rs")):
        rel = f.relative_to(src)
        parts = list(rel.with_suffix("").parts)
        if parts and parts[0] == "bin":
            continue
        if parts[-1] == "mod":
            parts = parts[:-1]
        if parts in (["lib"], ["main"]):
            parts = []
        found[tuple(parts)] = f
    return found


def strip(text):
    """The code without comments, strings and char literals (replaced by spaces)."""
    out = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if text.startswith("//", i):
            j = text.find("\n", i)
            j = n if j < 0 else j
            i = j
        elif text.startswith("/*", i):
            depth, j = 1, i + 2
            while j < n and depth:
                if text.startswith("/*", j):
                    depth, j = depth + 1, j + 2
                elif text.startswith("*/", j):
                    depth, j = depth - 1, j + 2
                else:
                    j += 1
            out.append("\n" * text.count("\n", i, j))
            i = j
        elif c == "r" and re.match(r'r#*"', text[i:i + 40]) and (i == 0 or not (text[i - 1].isalnum() or text[i - 1] == "_")):
            hashes = re.match(r'r(#*)"', text[i:]).group(1)
            end = text.find('"' + hashes, i + 2 + len(hashes))
            end = n if end < 0 else end + 1 + len(hashes)
            out.append("\n" * text.count("\n", i, end))
            i = end
        elif c == '"':
            j = i + 1
            while j < n and text[j] != '"':
                j += 2 if text[j] == "\\" else 1
            out.append("\n" * text.count("\n", i, j))
            i = j + 1
        elif c == "'" and re.match(r"'(\\.|[^\\'])'", text[i:i + 12] + " ") or (c == "'" and re.match(r"'\\u\{[0-9a-fA-F]+\}'", text[i:i + 12])):
            m = re.match(r"'(\\u\{[0-9a-fA-F]+\}|\\.|[^\\'])'", text[i:])
            i += len(m.group(0))
        else:
            out.append(c)
            i += 1
    return "".join(out)


def without_test_modules(code):
    """`code` less the bodies of `#[cfg(test)] mod name { ... }`."""
    out, i = [], 0
    for m in re.finditer(r"#\[cfg\(test\)\]\s*(pub(\([a-z]+\))?\s+)?mod\s+\w+\s*\{", code):
        if m.start() < i:
            continue
        out.append(code[i:m.start()])
        depth, j = 1, m.end()
        while j < len(code) and depth:
            depth += {"{": 1, "}": -1}.get(code[j], 0)
            j += 1
        i = j
    out.append(code[i:])
    return "".join(out)


def use_trees(code):
    """(is_pub, tree text) of each `use` item."""
    for m in re.finditer(r"(\bpub(\s*\([^)]*\))?\s+)?\buse\s+([^;]+);", code):
        yield bool(m.group(1)), m.group(3)


def expand(tree):
    """The paths a use tree names: `a::{b, c::{d as e}}` → a::b, a::c::d."""
    tree = re.sub(r"\s*(::|\{|\}|,)\s*", r"\1", " ".join(tree.split()))
    depth, start = 0, None
    for i, ch in enumerate(tree):
        if ch == "{":
            if depth == 0:
                start = i
            depth += 1
        elif ch == "}":
            depth -= 1
            if depth == 0:
                prefix, inner = tree[:start], tree[start + 1:i]
                parts, d, s = [], 0, 0
                for k, c in enumerate(inner):
                    d += c == "{"
                    d -= c == "}"
                    if c == "," and d == 0:
                        parts.append(inner[s:k])
                        s = k + 1
                parts.append(inner[s:])
                for p in parts:
                    if p:
                        yield from expand(prefix + p)
                return
    yield tree.split(" as ")[0]


def resolve(path, here, known):
    """The module a path (`crate::a::b`, `super::x`, `self::x`) reaches from module `here`."""
    segs = [s for s in path.split("::") if s]
    if not segs:
        return None
    if segs[0] == "crate":
        base, rest = (), segs[1:]
    elif segs[0] in ("super", "self"):
        base = here
        while segs and segs[0] in ("super", "self"):
            if segs[0] == "super":
                base = base[:-1]
            segs = segs[1:]
        rest = segs
    else:
        return None
    target = base
    for s in rest:
        if target + (s,) in known:
            target = target + (s,)
        else:
            break
    return target


def edges_of(mods):
    graph = {m: set() for m in mods}
    for mod, f in mods.items():
        code = without_test_modules(strip(f.read_text()))
        paths = []
        for is_pub, tree in use_trees(code):
            if is_pub:
                continue
            paths += expand(tree)
        body = re.sub(r"(\bpub(\s*\([^)]*\))?\s+)?\buse\s+[^;]+;", " ", code)
        paths += re.findall(r"(?<!::)\b(?:crate|super|self)(?:::\w+)+", body)
        # A child module named without a prefix, as its parent may: `routes::health`.
        children = [m[-1] for m in mods if len(m) == len(mod) + 1 and m[:-1] == mod]
        for child in children:
            for m in re.finditer(rf"(?<!::)(?<![\w]){child}((?:::\w+)+)", body):
                paths.append("self::" + child + m.group(1))
        for p in paths:
            p = re.sub(r"::(\*|self)$", "", p)
            target = resolve(p, mod, mods)
            if target is not None and target != mod:
                graph[mod].add(target)
    return graph


def cycles(graph):
    """Every strongly connected component of more than one module (Tarjan)."""
    index, low, stack, on, out, counter = {}, {}, [], set(), [], [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in sorted(graph[v]):
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
            if len(comp) > 1:
                out.append(sorted(comp))

    sys.setrecursionlimit(10000)
    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


def name(mod):
    return "::".join(mod) or "(crate root)"


def main():
    dirs = [Path(a) for a in sys.argv[1:]] or sorted(ROOT.glob("crates/*")) + [ROOT / "tests"]
    failed = False
    for crate in dirs:
        src = crate / "src"
        if not src.is_dir():
            continue
        mods = modules(src)
        graph = edges_of(mods)
        for comp in cycles(graph):
            failed = True
            members = set(comp)
            print(f"{crate.relative_to(ROOT) if crate.is_absolute() else crate}: modules in a circle: "
                  + ", ".join(name(m) for m in comp))
            for m in comp:
                for t in sorted(graph[m] & members):
                    print(f"    {name(m)} -> {name(t)}")
    if failed:
        sys.exit(1)
    print(f"cycles: no circle of imports in {len(dirs)} crates")


if __name__ == "__main__":
    main()
