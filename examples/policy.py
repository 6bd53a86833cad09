#!/usr/bin/env python3
"""A kubesim out-of-process policy (standard library only): bin packing.

Run it through the simulator:

    kubesim run scenarios/quickstart.yaml --policy 'exec:python3 examples/policy.py'

The protocol (docs/policy-protocol.md) is JSON lines on stdin / stdout:
  -> {"type":"hello","protocol":1,"seed":...}        <- {"type":"ready","filters":true,...}
  -> {"type":"schedule","pods":[...],"nodes":[...]}  <- {"node":"n1"} | {"nodes":[...]} | {"unschedulable":"why"}

Policy: each pod goes to the feasible node that is fullest after placing it, by
per-mille CPU plus per-mille memory allocation (integer arithmetic), ties to the
lowest node name, or with --random to a node drawn from the run's seed. Pods
sharing a `kubesim.io/pod-group` label value arrive together and are placed all
or none. examples/custom_policy.rs is the same policy in Rust.
"""

import json
import random
import sys

GROUP_LABEL = "kubesim.io/pod-group"


def score(node, extra, pod):
    """Per-mille CPU plus per-mille memory allocated after placing `pod`."""
    alloc, req, r = node["allocatable"], node["requested"], pod["requests"]
    s = 0
    for k in ("cpu_millis", "memory_bytes"):
        if alloc[k] > 0:
            s += (req[k] + extra.get(k, 0) + r[k]) * 1000 // alloc[k]
    return s


def fits(node, extra, pod):
    """Does `pod` fit in what is left after the pods placed earlier in this batch?"""
    alloc, req, r = node["allocatable"], node["requested"], pod["requests"]
    for k in ("cpu_millis", "memory_bytes"):
        if req[k] + extra.get(k, 0) + r[k] > alloc[k]:
            return False
    return node["pod_count"] + extra.get("pods", 0) + 1 <= alloc["pods"]


def place(msg, rng):
    nodes = {n["name"]: n for n in msg["nodes"]}
    extra = {}  # node name -> requests of the pods placed earlier in this batch
    chosen = []
    for pod in msg["pods"]:
        best, best_score, ties = None, -1, []
        for name in sorted(pod["feasible"]):
            e = extra.get(name, {})
            if not fits(nodes[name], e, pod):
                continue
            s = score(nodes[name], e, pod)
            if s > best_score:
                best, best_score, ties = name, s, [name]
            elif s == best_score:
                ties.append(name)
        if best is None:
            return {"unschedulable": "no feasible node with room for " + pod["namespace"] + "/" + pod["name"]}
        if rng is not None:
            best = rng.choice(ties)
        e = extra.setdefault(best, {})
        for k in ("cpu_millis", "memory_bytes"):
            e[k] = e.get(k, 0) + pod["requests"][k]
        e["pods"] = e.get("pods", 0) + 1
        chosen.append(best)
    if len(chosen) == 1:
        return {"node": chosen[0]}
    return {"nodes": chosen}


def main():
    rng = None
    for line in sys.stdin:
        msg = json.loads(line)
        if msg["type"] == "hello":
            if msg["protocol"] != 1:
                sys.exit("unsupported protocol version %s" % msg["protocol"])
            if "--random" in sys.argv[1:]:
                rng = random.Random(msg["seed"])
            answer = {"type": "ready", "filters": True, "group_label": GROUP_LABEL}
        elif msg["type"] == "schedule":
            answer = place(msg, rng)
        else:
            continue  # ignore message types added in later protocol versions
        sys.stdout.write(json.dumps(answer) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
