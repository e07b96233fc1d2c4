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
    p.add_argument("--rows", default=None, help="at most this many rows per family (default: the families' own)")
    p.add_argument("--plugin", action="append", default=[],
                   help="a kernel plug-in for ulpgate (repeatable; e.g. the oneDNN adapter): its kernels of the op "
                        "and dtype whose name contains 'onednn' are scored beside the framework")
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


def plugins(args):
    return [a for p in args.plugin for a in ("--plugin", p)]


def kernels(args):
    """The registry (ulpgate list --json), with the plug-ins' kernels."""
    r = subprocess.run([args.ulpgate, "list", "--json"] + plugins(args), stdout=subprocess.PIPE,
                       universal_newlines=True)
    if r.returncode != 0:
        sys.exit("ulpgate list --json: exit %d" % r.returncode)
    return json.loads(r.stdout)


def references(args, op, dtype):
    """ulpgate's scalar production kernel of (op, dtype) and oneDNN's kernels: [(name, slug, kernel)]."""
    out = []
    for k in kernels(args):
        if k["op"] != op or k["dtype"] != dtype:
            continue
        if k["role"] == "production" and k["isa"] == "scalar":
            out.append(("ulpgate " + k["name"], "ulpgate", k["name"]))
        elif "onednn" in k["name"]:
            out.append(("oneDNN " + k["name"], "onednn", k["name"]))
    return out


def export(args, op, dtype):
    """The vectors of (op, dtype), exported once per output directory and options."""
    os.makedirs(args.out, exist_ok=True)
    path = os.path.join(args.out, "vectors-%s-%s.json" % (op, dtype))
    cmd = [args.ulpgate, "vectors", "export"] + plugins(args) + ["--op", op, "--dtype", dtype, "--out", path,
                                                                  "--seed", args.seed]
    if args.rows:
        cmd += ["--rows", args.rows]
    r = subprocess.run(cmd, stdout=subprocess.DEVNULL)
    if r.returncode != 0:
        sys.exit("%s: exit %d" % (" ".join(cmd), r.returncode))
    with open(path) as f:
        return path, json.load(f)


def score(args, vectors_path, doc, name, slug, fn, kernel=None, variant=None):
    """Run fn on every vector, write the outputs, score them (or score a registered kernel);
    returns ulpgate's exit status."""
    base = "%s-%s-%s" % (slug, doc["op"], doc["dtype"])
    score_path = os.path.join(args.out, "score-%s.json" % base)
    if kernel is not None:
        cmd = [args.ulpgate, "vectors", "score"] + plugins(args) + ["--vectors", vectors_path, "--kernel", kernel,
                                                                     "--name", name, "--json", score_path]
        return report(cmd, doc, slug, score_path, {})
    outputs, skipped = {}, {}
    for v in doc["vectors"]:
        try:
            y = fn(v)
        except Unsupported as e:
            skipped[str(v["id"])] = str(e)
            continue
        outputs[str(v["id"])] = hexes(y)
    out_path = os.path.join(args.out, "outputs-%s.json" % base)
    with open(out_path + ".tmp", "w") as f:
        json.dump({"format": "ulpgate-outputs", "version": 1, "implementation": name, "op": doc["op"],
                   "dtype": doc["dtype"], "outputs": outputs, "skipped": skipped}, f)
    os.replace(out_path + ".tmp", out_path)
    cmd = [args.ulpgate, "vectors", "score"] + plugins(args) + ["--vectors", vectors_path, "--outputs", out_path,
                                                                 "--json", score_path]
    if variant:
        cmd += ["--variant", variant]
    return report(cmd, doc, slug, score_path, skipped)


def report(cmd, doc, slug, score_path, skipped):
    """Run a score command and print its summary in one line."""
    r = subprocess.run(cmd, stdout=subprocess.PIPE, universal_newlines=True)
    if r.returncode not in (0, 1):
        print(r.stdout[-2000:], file=sys.stderr)
        print("%-8s %-11s %-4s ulpgate vectors score: exit %d" % (slug, doc["op"], doc["dtype"], r.returncode))
        return r.returncode
    with open(score_path) as f:
        s = json.load(f)["summary"]
    w = s["worst"] or {}
    print("%-8s %-11s %-4s max(finite) %-10s p99 %-10s cr %6.2f%%  violations %-5d %-4s worst: vector %s (%s)%s"
          % (slug, doc["op"], doc["dtype"], fmt(s["max_ulp_finite"]), fmt(s["p99"]), s["pct_correct"], s["violations"],
             s["verdict"], w.get("vector"), w.get("source"), ", %d skipped" % len(skipped) if skipped else ""))
    return r.returncode


def run(prog, doc, dtypes, implementations):
    """The whole script: implementations(op, dtype) -> [(name, slug, fn[, variant]), ...]."""
    args = parse_args(prog, dtypes, doc)
    worst = 0
    for op in args.ops:
        for dtype in args.dtypes:
            impls = implementations(op, dtype)
            if not impls:
                continue
            vectors_path, vdoc = export(args, op, dtype)
            for name, slug, kernel in references(args, op, dtype):
                rc = score(args, vectors_path, vdoc, name, slug, None, kernel)
                worst = max(worst, 0 if rc == 1 else rc)
            for impl in impls:
                name, slug, fn = impl[:3]
                rc = score(args, vectors_path, vdoc, name, slug, fn, variant=impl[3] if len(impl) > 3 else None)
                worst = max(worst, 0 if rc == 1 else rc)  # 1: over the bar, a measurement, not an error
    print("scores (ulpgate report --peers %s): %s/score-*.json" % (args.out, args.out))
    return worst
