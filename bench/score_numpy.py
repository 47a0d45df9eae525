"""Baselines for `npm run bench -- score`, timed in the same run as emb-bench.

per-dim: what sentence-transformers' InformationRetrievalEvaluator does per Matryoshka dim
(normalise the truncated embeddings, matmul against the corpus in chunks, top-k); one-matmul:
a single full-width product, this machine's BLAS rate (the floor for any exact method).
"""
import json, sys, time
import numpy as np

q = np.load(sys.argv[1]); c = np.load(sys.argv[2]); dims = [int(d) for d in sys.argv[3].split(',')]; k = int(sys.argv[4])
chunk = 1000

def normalize(x):
    return x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)

t0 = time.perf_counter()
for d in dims:
    qn = normalize(q[:, :d]); cn = normalize(c[:, :d])
    for s in range(0, len(qn), chunk):
        scores = qn[s:s + chunk] @ cn.T
        top = np.argpartition(-scores, k, axis=1)[:, :k]
        part = np.take_along_axis(scores, top, axis=1)
        np.take_along_axis(top, np.argsort(-part, axis=1), axis=1)
per_dim = time.perf_counter() - t0

t0 = time.perf_counter()
for s in range(0, len(q), chunk):
    q[s:s + chunk] @ c.T
one = time.perf_counter() - t0
print(json.dumps({"numpy_per_dim_s": per_dim, "numpy_one_matmul_s": one, "numpy": np.__version__}))
