#!/usr/bin/python3
"""lint_calls.py: the call structure between files, checked by make lint.

Reads the C files of a program (the house style puts a definition's name
at the start of a line, its return type on the line before), finds which
file calls a function defined in which other file, and reports:

  - circles of calls between files (strongly connected components of the
    file graph with more than one file): a change in one file of a circle
    can break any other, so none is allowed;
  - functions taking more than MAX_PARAMS parameters (they become structs).

Usage: lint_calls.py [--max-params N] [--circles] [--report] GLOB...
Exit status 1 when a circle or a long parameter list is found (only a
circle with --circles), unless --report (print only).
"""
import argparse
import glob
import re
import sys

MAX_PARAMS = 6
# Callbacks whose parameter list a library fixes (libmicrohttpd's
# MHD_PostDataIterator and MHD_AccessHandlerCallback).
FIXED_SIGNATURES = {("agents/web/form.c", "on_part"),
                    ("agents/web/server.c", "on_request")}

DEF_RE = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*)\(", re.M)
CALL_RE = re.compile(r"\b([A-Za-z_][A-Za-z0-9_]*)\s*\(")


def strip(src):
    """Source without comments, string and character literals."""
    src = re.sub(r"/\*.*?\*/", lambda m: "\n" * m.group(0).count("\n"),
                 src, flags=re.S)
    src = re.sub(r"//[^\n]*", "", src)
    src = re.sub(r'"(\\.|[^"\\\n])*"', '""', src)
    src = re.sub(r"'(\\.|[^'\\\n])*'", "''", src)
    return src


def definitions(src):
    """(name, is_static, params) for each function defined in src."""
    out = []
    for m in DEF_RE.finditer(src):
        before = src[:m.start()].rstrip("\n").rsplit("\n", 1)[-1]
        if before.endswith(";") or before.strip() == "" or \
           before.lstrip().startswith("#"):
            continue
        depth, i = 1, m.end()
        while i < len(src) and depth > 0:
            depth += {"(": 1, ")": -1}.get(src[i], 0)
            i += 1
        rest = src[i:i + 40].lstrip()
        if not rest.startswith("{"):
            continue  # a prototype or a macro use
        args = src[m.end():i - 1]
        args = re.sub(r"\([^()]*\)", "", args)  # function-pointer params
        n = 0 if args.strip() in ("", "void") else args.count(",") + 1
        out.append((m.group(1), "static" in before.split(), n))
    return out


def tarjan(graph):
    index, low, stack, on, sccs = {}, {}, [], set(), []

    def visit(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in sorted(graph.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            scc = []
            while True:
                w = stack.pop()
                on.discard(w)
                scc.append(w)
                if w == v:
                    break
            sccs.append(sorted(scc))

    sys.setrecursionlimit(10000)
    for v in sorted(graph):
        if v not in index:
            visit(v)
    return sccs


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--max-params", type=int, default=MAX_PARAMS)
    ap.add_argument("--circles", action="store_true",
                    help="check circles of calls only")
    ap.add_argument("--report", action="store_true",
                    help="print only, exit 0")
    ap.add_argument("globs", nargs="+")
    opt = ap.parse_args()

    files = sorted({f for g in opt.globs for f in glob.glob(g)})
    srcs = {f: strip(open(f, encoding="utf-8").read()) for f in files}
    owner, long_params = {}, []
    for f, s in srcs.items():
        for name, static, n in definitions(s):
            if not static:
                owner.setdefault(name, f)
            if n > opt.max_params and not opt.circles and \
               (f, name) not in FIXED_SIGNATURES:
                long_params.append((n, f, name))
    graph = {f: set() for f in files}
    why = {}
    for f, s in srcs.items():
        local = {n for n, _, _ in definitions(s)}
        for m in CALL_RE.finditer(s):
            callee = m.group(1)
            g = owner.get(callee)
            if g is not None and g != f and callee not in local:
                graph[f].add(g)
                why.setdefault((f, g), callee)
    bad = 0
    for scc in tarjan(graph):
        if len(scc) < 2:
            continue
        bad += 1
        print("circle of calls: " + " ".join(scc))
        for f in scc:
            for g in sorted(graph[f] & set(scc)):
                print(f"  {f} -> {g} ({why[(f, g)]})")
    for n, f, name in sorted(long_params, reverse=True):
        print(f"{f}: {name}() takes {n} parameters (max {opt.max_params})")
    if opt.report:
        return 0
    return 1 if bad or long_params else 0


if __name__ == "__main__":
    sys.exit(main())
