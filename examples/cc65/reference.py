#!/usr/bin/env python3
"""Record the reference results of the real sim65 for the cc65 example programs.

Usage: python3 reference.py [--sim65 PATH] [--out expected.json] [NAME ...]

For each program NAME.sim (built by `make all`), in a fresh temporary directory:

    <tmp>/work/NAME.sim   a copy of the image; <tmp>/work is the working directory
                          (so files.c does its file I/O there, and sandbox.c's
                          "../recomp-escape.txt" lands in <tmp>, not next to this file)

it runs sim65 twice, from <tmp>/work, with the program given as plain "NAME.sim"
(sim65 passes that string through as argv[0]):

    sim65 NAME.sim ARGS...        -> exact stdout, stderr, exit status
    sim65 -c NAME.sim ARGS...     -> the same, plus the line "<N> cycles\\n" that sim65
                                     appends to its *stdout* when the program exits

The cycle line is split off by comparing the two runs: the -c stdout must be the
plain stdout followed by exactly "<N> cycles\\n" (a program whose output does not end
in a newline gets the number glued to its last line, e.g. "abc123" + "3243 cycles",
so the number cannot be parsed from the -c output alone).  stderr must be identical
in both runs: sim65 itself prints nothing on stderr unless it fails (-v aside).

The result, expected.json, is keyed by program name; see README.md for the fields.
Standard library only.
"""

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))

STDIN_TEXT = (
    "Hello, world\n"
    "the quick brown fox\n"
    "  jumps over   the lazy dog\n"
    "\n"
    "last line, no newline: 123 abc"
)

# name -> (args, stdin)
PROGRAMS = {
    "hello": ([], ""),
    "args": (["one", "two words", "3"], ""),
    "exitcodes": ([], ""),
    "longmath": ([], ""),
    "recursion": ([], ""),
    "files": ([], ""),
    "stdin": ([], STDIN_TEXT),
    "sandbox": ([], ""),
    "c02sort": ([], ""),
    "c02bits": ([], ""),
}

# Programs whose real-sim65 behaviour is deliberately not what recomp should do.
SANDBOX = "sandbox"

CYCLES_RE = re.compile(rb"\A([0-9]+) cycles\n\Z")


def run(sim65, workdir, argv, stdin):
    proc = subprocess.run(
        [sim65] + argv,
        cwd=workdir,
        input=stdin.encode("latin-1"),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        timeout=120,
    )
    return proc.stdout, proc.stderr, proc.returncode


def snapshot(root):
    """All regular files under root, as {relative path: bytes}."""
    files = {}
    for dirpath, _dirs, names in os.walk(root):
        for n in names:
            p = os.path.join(dirpath, n)
            files[os.path.relpath(p, root)] = open(p, "rb").read()
    return files


def one_run(sim65, image, name, args, stdin, cycles_flag):
    """Run in a fresh <tmp>/work; return (stdout, stderr, status, new files in <tmp>)."""
    with tempfile.TemporaryDirectory(prefix="recomp-sim65-") as tmp:
        work = os.path.join(tmp, "work")
        os.mkdir(work)
        shutil.copyfile(image, os.path.join(work, name + ".sim"))
        before = snapshot(tmp)
        argv = (["-c"] if cycles_flag else []) + [name + ".sim"] + args
        out, err, status = run(sim65, work, argv, stdin)
        after = snapshot(tmp)
        new = {k: v for k, v in after.items() if before.get(k) != v}
        return out, err, status, new


def text(b):
    # The programs print ASCII; latin-1 keeps any stray byte reversible.
    return b.decode("latin-1")


def reference(sim65, name):
    args, stdin = PROGRAMS[name]
    image = os.path.join(HERE, name + ".sim")
    if not os.path.exists(image):
        sys.exit("%s missing: run `make all` first" % image)

    out, err, status, files = one_run(sim65, image, name, args, stdin, False)
    out_c, err_c, status_c, files_c = one_run(sim65, image, name, args, stdin, True)

    if status_c != status or err_c != err or files_c != files:
        sys.exit("%s: runs with and without -c differ" % name)
    if not out_c.startswith(out):
        sys.exit("%s: -c stdout does not start with the plain stdout" % name)
    m = CYCLES_RE.match(out_c[len(out):])
    if not m:
        sys.exit("%s: no cycle line after the program's stdout: %r" % (name, out_c[len(out):]))
    cycles = int(m.group(1))

    entry = {
        "args": args,
        "stdin": stdin,
        "stdout": text(out),
        "stderr": text(err),
        "exit": status,
        "cycles": cycles,
        "command": ["sim65", "-c", name + ".sim"] + args,
        # Files the program left behind, relative to the working directory
        # ("../x" = next to it).  Contents are exact text.
        "files_after": {
            os.path.relpath(k, "work"): text(v)
            for k, v in sorted(files.items())
            if k != os.path.join("work", name + ".sim")
        },
    }
    if name == SANDBOX:
        entry["sim65_differs"] = True
        entry["recomp_stdout"] = text(out).replace(": opened\n", ": NULL\n")
        entry["recomp_files_after"] = {}
    return entry


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sim65", default=os.environ.get("SIM65", "sim65"))
    ap.add_argument("--out", default=os.path.join(HERE, "expected.json"))
    ap.add_argument("names", nargs="*", help="programs (default: all)")
    opts = ap.parse_args()

    names = opts.names or list(PROGRAMS)
    result = {}
    if opts.names and os.path.exists(opts.out):
        with open(opts.out) as f:
            result = json.load(f)
    for name in names:
        if name not in PROGRAMS:
            sys.exit("unknown program %r (known: %s)" % (name, ", ".join(PROGRAMS)))
        result[name] = reference(opts.sim65, name)
        print("%-10s exit %3d  %9d cycles" % (name, result[name]["exit"], result[name]["cycles"]))
    ordered = {k: result[k] for k in PROGRAMS if k in result}
    with open(opts.out, "w") as f:
        json.dump(ordered, f, indent=2, ensure_ascii=True)
        f.write("\n")


if __name__ == "__main__":
    main()
