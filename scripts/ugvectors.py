"""What scripts/check-torch and scripts/check-numpy share: export test vectors with
`ulpgate vectors export`, read them, run a framework's functions on them, write the
outputs file and score it with `ulpgate vectors score` (doc/VECTORS.md has both formats).

A framework script gives, per op, one or more *implementations*: a name and a function
vector -> list of output floats (in the dtype, held exactly in Python floats), which may
raise Unsupported(reason) for a vector the framework cannot express (the vector is then
listed in the outputs file's "skipped", and the score says how many).  Values cross the
boundary as C99 hex floats (float.hex / float.fromhex), so nothing is rounded on the way.

Run with Debian's /usr/bin/python3 (python3-torch, python3-numpy, python3-scipy).
"""
import argparse
import json
import os
import subprocess
import sys

OPS = ["softmax", "log_softmax", "logsumexp", "xent", "xent_dense", "xent_grad", "bce_logits"]
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


class Unsupported(Exception):
    """The framework cannot compute this vector (the reason is recorded)."""


def floats(strings):
    """Hex-float (or inf / -inf / nan) strings of a vectors file as Python floats, exactly."""
    return [float.fromhex(s) for s in strings]


def hexes(values):
    """Python floats as the strings `ulpgate vectors score` reads (exact)."""
    return [float(v).hex() for v in values]


def fmt(v):
    """A statistic of a score file (a number, or "inf" / "nan") in a few characters."""
    return v if isinstance(v, str) else "%.4g" % v


def parse_args(prog, dtypes, doc):
    p = argparse.ArgumentParser(prog=prog, description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--ulpgate", default=os.path.join(ROOT, "build", "default", "reports", "ulpgate"),
                   help="the ulpgate command (default: build/default/reports/ulpgate)")
    p.add_argument("--out", default=os.path.join(ROOT, "build", prog),
                   help="directory for vectors, outputs and scores (default: build/%s)" % prog)
    p.add_argument("--ops", default=",".join(OPS), help="comma-separated ops (default: all)")
    p.add_argument("--dtypes", default=",".join(dtypes), help="comma-separated dtypes (default: %s)" % ",".join(dtypes))
    p.add_argument("--seed", default="1", help="seed of the input families (default 1)")
    p.add_argument("--rows", default=None, help="rows per family (default: the families' defaults)")
    a = p.parse_args()
    a.ops = [o for o in a.ops.split(",") if o]
    a.dtypes = [d for d in a.dtypes.split(",") if d]
    for o in a.ops:
        if o not in OPS:
            p.error("unknown op '%s' (ops: %s)" % (o, ", ".join(OPS)))
    for d in a.dtypes:
        if d not in dtypes:
            p.error("dtype '%s' not available here (%s)" % (d, ", ".join(dtypes)))
    if not os.access(a.ulpgate, os.X_OK):
        p.error("%s is not an executable (build first, or give --ulpgate)" % a.ulpgate)
    return a


def export(args, op, dtype):
    """The vectors of (op, dtype), exported once per output directory and options."""
    os.makedirs(args.out, exist_ok=True)
    path = os.path.join(args.out, "vectors-%s-%s.json" % (op, dtype))
    cmd = [args.ulpgate, "vectors", "export", "--op", op, "--dtype", dtype, "--out", path, "--seed", args.seed]
    if args.rows:
        cmd += ["--rows", args.rows]
    r = subprocess.run(cmd, stdout=subprocess.DEVNULL)
    if r.returncode != 0:
        sys.exit("%s: exit %d" % (" ".join(cmd), r.returncode))
    with open(path) as f:
        return path, json.load(f)


def score(args, vectors_path, doc, name, slug, fn):
    """Run fn on every vector, write the outputs, score them; returns ulpgate's exit status."""
    outputs, skipped = {}, {}
    for v in doc["vectors"]:
        try:
            y = fn(v)
        except Unsupported as e:
            skipped[str(v["id"])] = str(e)
            continue
        outputs[str(v["id"])] = hexes(y)
    base = "%s-%s-%s" % (slug, doc["op"], doc["dtype"])
    out_path = os.path.join(args.out, "outputs-%s.json" % base)
    with open(out_path + ".tmp", "w") as f:
        json.dump({"format": "ulpgate-outputs", "version": 1, "implementation": name, "op": doc["op"],
                   "dtype": doc["dtype"], "outputs": outputs, "skipped": skipped}, f)
    os.replace(out_path + ".tmp", out_path)
    score_path = os.path.join(args.out, "score-%s.json" % base)
    cmd = [args.ulpgate, "vectors", "score", "--vectors", vectors_path, "--outputs", out_path, "--json", score_path]
    r = subprocess.run(cmd, stdout=subprocess.PIPE, universal_newlines=True)
    if r.returncode not in (0, 1):
        print(r.stdout[-2000:], file=sys.stderr)
        print("%-8s %-11s %-4s ulpgate vectors score: exit %d" % (slug, doc["op"], doc["dtype"], r.returncode))
        return r.returncode
    with open(score_path) as f:
        s = json.load(f)["summary"]
    w = s["worst"] or {}
    print("%-8s %-11s %-4s max %-10s p99 %-10s cr %6.2f%%  violations %-5d %-4s worst: vector %s (%s)%s"
          % (slug, doc["op"], doc["dtype"], fmt(s["max_ulp"]), fmt(s["p99"]), s["pct_correct"], s["violations"],
             s["verdict"], w.get("vector"), w.get("source"), ", %d skipped" % len(skipped) if skipped else ""))
    return r.returncode


def run(prog, doc, dtypes, implementations):
    """The whole script: implementations(op, dtype) -> [(name, slug, fn), ...]."""
    args = parse_args(prog, dtypes, doc)
    worst = 0
    for op in args.ops:
        for dtype in args.dtypes:
            impls = implementations(op, dtype)
            if not impls:
                continue
            vectors_path, vdoc = export(args, op, dtype)
            for name, slug, fn in impls:
                rc = score(args, vectors_path, vdoc, name, slug, fn)
                worst = max(worst, 0 if rc == 1 else rc)  # 1: over the bar, a measurement, not an error
    print("scores (ulpgate report --peers %s): %s/score-*.json" % (args.out, args.out))
    return worst
