#!/usr/bin/env python3
"""Record what the real sim65 prints for the cc65 benchmark programs, into expected.json.

Usage: python3 reference.py [--out expected.json] [NAME ...]   (sim65: $SIM65, default "sim65")

For each NAME.sim it runs, from this folder, `sim65 NAME.sim` (the default repeat count) and
`sim65 NAME.sim 1`, each also with -c for the cycle count (sim65 appends "<N> cycles" to its
stdout), and writes {NAME: {"stdout": {"default": ..., "1": ...}, "cycles": {"default": N,
"1": N}}}.  Every run must exit 0 with nothing on stderr.  Standard library only.
"""

import argparse
import json
import os
import re
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
PROGRAMS = ("sieve", "crc32", "lz", "matmul")
COUNTS = {"default": [], "1": ["1"]}  # the name of a run -> the program's arguments


def run(sim65, argv):
    """stdout of one sim65 run that must succeed quietly."""
    done = subprocess.run([sim65] + argv, cwd=HERE, capture_output=True, timeout=600)
    if done.returncode != 0 or done.stderr:
        sys.exit(f"{' '.join(argv)}: exit {done.returncode}, stderr {done.stderr!r}")
    return done.stdout.decode("latin-1")


def record(sim65, name):
    """The stdout and cycle count of NAME at each count."""
    entry = {"stdout": {}, "cycles": {}}
    for count, args in COUNTS.items():
        plain = run(sim65, [f"{name}.sim"] + args)
        counted = run(sim65, ["-c", f"{name}.sim"] + args)
        cycles = re.fullmatch(r"([0-9]+) cycles\n", counted[len(plain):])
        if not counted.startswith(plain) or cycles is None:
            sys.exit(f"{name} {count}: sim65 -c printed {counted!r}, without -c {plain!r}")
        entry["stdout"][count], entry["cycles"][count] = plain, int(cycles.group(1))
    return entry


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=os.path.join(HERE, "expected.json"))
    parser.add_argument("names", nargs="*", default=list(PROGRAMS))
    options = parser.parse_args()
    sim65 = os.environ.get("SIM65", "sim65")
    results = {name: record(sim65, name) for name in options.names}
    with open(options.out, "w") as out:
        json.dump(results, out, indent=2)
        out.write("\n")


if __name__ == "__main__":
    main()
