"""Random float32 query and corpus embeddings for the scoring benchmarks (seeded)."""
import sys
import numpy as np

nq, nc, dim, out_q, out_c = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), sys.argv[4], sys.argv[5]
rng = np.random.default_rng(1)
np.save(out_q, rng.standard_normal((nq, dim), dtype=np.float32))
c = np.empty((nc, dim), dtype=np.float32)
for s in range(0, nc, 100000):
    c[s:s + 100000] = rng.standard_normal((min(100000, nc - s), dim), dtype=np.float32)
np.save(out_c, c)
