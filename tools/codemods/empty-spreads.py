#!/usr/bin/env python3
"""Removes `...(x === undefined ? {} : { x })` spreads and `x === undefined ? {} : { k: x }` objects.

Under the repository's tsconfig (exactOptionalPropertyTypes off) an optional property may hold
undefined, so these conditionals do what `x` / `{ k: x }` do. Usage: python3 tools/codemods/empty-spreads.py FILE...
Prints how many it rewrote per file.
"""
import re
import sys

EXPR = r"[A-Za-z_$][A-Za-z0-9_$]*(?:(?:\?\.|\.)[A-Za-z_$][A-Za-z0-9_$]*)*"
KEY = r"[A-Za-z_$][A-Za-z0-9_$]*|'[^']*'"
# ...(X === undefined ? {} : { K: X }) and ...(X === undefined ? {} : { X })
SPREAD = re.compile(r"\.\.\.\((" + EXPR + r") === undefined \? \{\} : \{ (?:(" + KEY + r"): )?(" + EXPR + r") \}\)")
# X === undefined ? {} : { K: X }   (an argument or a value, not a spread)
PLAIN = re.compile(r"(?<![.\w$])(?<!\|\| )(?<!&& )(?<!\?\? )(" + EXPR + r") === undefined \? \{\} : \{ (?:(" + KEY + r"): )?(" + EXPR + r") \}")


def spread(m: re.Match) -> str:
    cond, key, value = m.group(1), m.group(2), m.group(3)
    if cond != value:
        return m.group(0)
    if key is None:
        return value if re.fullmatch(r"[A-Za-z_$][A-Za-z0-9_$]*", value) else m.group(0)
    return f"{key}: {value}"


def plain(m: re.Match) -> str:
    cond, key, value = m.group(1), m.group(2), m.group(3)
    if cond != value:
        return m.group(0)
    if key is None:
        return f"{{ {value} }}" if re.fullmatch(r"[A-Za-z_$][A-Za-z0-9_$]*", value) else m.group(0)
    return f"{{ {key}: {value} }}"


for path in sys.argv[1:]:
    src = open(path).read()
    out, n1 = SPREAD.subn(spread, src)
    out, n2 = PLAIN.subn(plain, out)
    if out != src:
        open(path, "w").write(out)
        print(f"{path}: {n1} spreads, {n2} objects")
