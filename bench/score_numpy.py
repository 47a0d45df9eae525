"""numpy baselines for the scoring benchmarks, timed in the same run as emb-bench.

per-dim: what sentence-transformers' InformationRetrievalEvaluator does for each Matryoshka dim
(truncate, cosine = normalised matmul over corpus chunks of 50,000, top-k per chunk, merge);
one-matmul: a single full-width product over the same chunks, no top-k: this machine's BLAS
rate, the floor for any exact method.

usage: score_numpy.py Q.npy C.npy DIMS K
"""
import json, resource, sys, time
import numpy as np

QUERY_CHUNK, CORPUS_CHUNK = 1000, 50000

def normalize(x):
    return x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)

def per_dim(q, c, dims, k):
    for d in dims:
        for qs in range(0, len(q), QUERY_CHUNK):
            qn = normalize(q[qs:qs + QUERY_CHUNK, :d])
            best_s = np.full((len(qn), 0), -np.inf, dtype=np.float32)
            best_i = np.zeros((len(qn), 0), dtype=np.int64)
            for cs in range(0, len(c), CORPUS_CHUNK):
                scores = qn @ normalize(c[cs:cs + CORPUS_CHUNK, :d]).T
                kk = min(k, scores.shape[1])
                top = np.argpartition(-scores, kk - 1, axis=1)[:, :kk]
                best_s = np.concatenate([best_s, np.take_along_axis(scores, top, axis=1)], axis=1)
                best_i = np.concatenate([best_i, top + cs], axis=1)
                if best_s.shape[1] > k:
                    keep = np.argpartition(-best_s, k - 1, axis=1)[:, :k]
                    best_s = np.take_along_axis(best_s, keep, axis=1)
                    best_i = np.take_along_axis(best_i, keep, axis=1)
            np.take_along_axis(best_i, np.argsort(-best_s, axis=1), axis=1)

def one_matmul(q, c):
    for qs in range(0, len(q), QUERY_CHUNK):
        for cs in range(0, len(c), CORPUS_CHUNK):
            q[qs:qs + QUERY_CHUNK] @ c[cs:cs + CORPUS_CHUNK].T

if __name__ == "__main__":
    q = np.load(sys.argv[1]); c = np.load(sys.argv[2])
    dims = [int(d) for d in sys.argv[3].split(',')]; k = int(sys.argv[4])
    t0 = time.perf_counter(); per_dim(q, c, dims, k); t1 = time.perf_counter(); one_matmul(q, c); t2 = time.perf_counter()
    print(json.dumps({
        "numpy_per_dim_s": t1 - t0,
        "numpy_one_matmul_s": t2 - t1,
        "numpy_peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "numpy": np.__version__,
    }))
