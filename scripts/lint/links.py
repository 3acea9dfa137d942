#!/usr/bin/env python3
"""Fails when a relative link in a Markdown file of the repository leads nowhere.

`make lint` runs it over every `*.md` that git tracks. A link is `[text](target)` or a
reference definition `[name]: target`; links with a scheme (`https:`, `mailto:`) and rustdoc's
intra-doc links (`[`Type`]` without a target) are not relative and are left alone. A relative
target must name a file or folder that exists, taken from the linking file's folder (or from the
repository's root when it starts with `/`). When it has a `#fragment` and names a Markdown file
(or is only `#fragment`), that file must have a heading whose GitHub anchor is the fragment:
lower-cased, punctuation other than `-` and `_` dropped, spaces turned into `-`, and `-1`, `-2`
added to repeats.

    python3 scripts/lint/links.py [FILE.md ...]
"""

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

INLINE = re.compile(r"(?<!\\)\[(?:[^\[\]]|\[[^\]]*\])*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
DEFINITION = re.compile(r"^\s{0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s+.*)?$", re.M)
FENCE = re.compile(r"^(```|~~~).*?^\1\s*$", re.M | re.S)
CODE = re.compile(r"`[^`\n]*`")


def anchors(path, cache={}):
    if path not in cache:
        text = FENCE.sub("", path.read_text(encoding="utf-8"))
        seen, found = {}, set()
        for m in re.finditer(r"^#{1,6}\s+(.*?)\s*#*\s*$", text, re.M):
            title = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", m.group(1))  # a link's text only
            slug = re.sub(r"[^\w\- ]", "", title.lower().replace("`", "")).replace(" ", "-")
            n = seen.get(slug, 0)
            seen[slug] = n + 1
            found.add(slug if n == 0 else f"{slug}-{n}")
        for m in re.finditer(r"<a\s+(?:name|id)=\"([^\"]+)\"", text):
            found.add(m.group(1))
        cache[path] = found
    return cache[path]


def check(md):
    text = md.read_text(encoding="utf-8")
    stripped = CODE.sub("", FENCE.sub(lambda m: "\n" * m.group(0).count("\n"), text))
    problems = []
    for pattern in (INLINE, DEFINITION):
        for m in pattern.finditer(stripped):
            target = m.group(1)
            if re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*:", target):
                continue
            line = stripped.count("\n", 0, m.start()) + 1
            path_part, _, fragment = target.partition("#")
            if path_part:
                base = ROOT if path_part.startswith("/") else md.parent
                dest = (base / path_part.lstrip("/")).resolve()
                if not dest.exists():
                    problems.append(f"{md.relative_to(ROOT)}:{line}: {target}: no such file")
                    continue
            else:
                dest = md
            if fragment and dest.suffix == ".md" and fragment not in anchors(dest):
                problems.append(f"{md.relative_to(ROOT)}:{line}: {target}: no heading with that anchor")
    return problems


def main():
    if len(sys.argv) > 1:
        files = [Path(a).resolve() for a in sys.argv[1:]]
    else:
        listed = subprocess.run(["git", "ls-files", "*.md"], cwd=ROOT, capture_output=True,
                                text=True, check=True).stdout.split()
        files = [ROOT / f for f in listed]
    problems = [p for f in files for p in check(f)]
    for p in problems:
        print(p)
    if problems:
        print(f"links: {len(problems)} relative link(s) lead nowhere")
        sys.exit(1)
    print(f"links: every relative link in {len(files)} Markdown files resolves")


if __name__ == "__main__":
    main()
