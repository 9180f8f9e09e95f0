"""The machine's floor for one number: what a plain script needs to price an exported graph.

    python bench/floor_solve.py EXPORT.json      # prints the monthly total

It imports numpy and scipy.sparse, reads `llmarch export`'s JSON, builds the sparse
transition matrix P of the absorbing chain and solves (I - Pᵀ) v = e for the expected
visits v with one sparse LU solve; cost per request = Σ v · cost per visit, monthly total =
requests per month × cost per request + fixed monthly. `bench/bench_first_number.py` holds
llmarch's own `cost` against this process (and checks that both give the same number).
"""

import json
import sys

import numpy as np
import scipy.sparse
import scipy.sparse.linalg


def monthly_total(document: dict) -> float:
    nodes = document["nodes"]
    index = {n["id"]: i for i, n in enumerate(nodes)}
    size = len(nodes)
    rows = [index[e["target"]] for e in document["edges"]]
    cols = [index[e["source"]] for e in document["edges"]]
    probability = [e["probability"] for e in document["edges"]]
    transposed = scipy.sparse.csc_matrix((probability, (rows, cols)), shape=(size, size))
    entry = np.zeros(size)
    entry[index[document["entry"]]] = 1.0
    visits = scipy.sparse.linalg.spsolve(scipy.sparse.identity(size, format="csc") - transposed, entry)
    cost = np.array([n["cost_per_visit"] for n in nodes])
    return float(document["requests_per_month"] * visits @ cost + document["fixed_monthly"])


if __name__ == "__main__":
    with open(sys.argv[1], encoding="utf-8") as handle:
        print(repr(monthly_total(json.load(handle))))
