"""FAISS's exact search per Matryoshka dim, as sentence-transformers' semantic_search_faiss uses it
(IndexBinaryFlat for ubinary, IndexFlatIP for the integer rows), beside emb-bench's quantized first
stage (bench/quantized.js). Quantization here is the formula of quantize_embeddings at
sentence-transformers cad2119 (int8: clip(floor((x - min) / step), 0, 255) - 128 with the corpus's
ranges; ubinary: np.packbits(x > 0)). Prints one JSON object: per precision and dim, the seconds
to build the index and to search, and the first queries' result rows (for the agreement check).

usage: quantized_faiss.py QUERIES.npy CORPUS.npy DIMS K CHECK_QUERIES OUT_DIR
"""
import json
import sys
import time

import faiss
import numpy as np

q_path, c_path, dims, k, check, out = sys.argv[1], sys.argv[2], [int(d) for d in sys.argv[3].split(",")], int(sys.argv[4]), int(sys.argv[5]), sys.argv[6]
q = np.load(q_path)
c = np.load(c_path, mmap_mode="r")
width = max(dims)
ranges_min = np.empty(width, dtype=np.float32)
ranges_max = np.empty(width, dtype=np.float32)
for s in range(0, c.shape[0], 100000):
    block = np.asarray(c[s : s + 100000, :width])
    ranges_min = block.min(axis=0) if s == 0 else np.minimum(ranges_min, block.min(axis=0))
    ranges_max = block.max(axis=0) if s == 0 else np.maximum(ranges_max, block.max(axis=0))
steps = (ranges_max - ranges_min) / 255
steps = np.where(steps == 0, 1, steps)


def int8(x):
    return (np.clip(np.floor((x - ranges_min[: x.shape[1]]) / steps[: x.shape[1]]), 0, 255) - 128).astype(np.int8)


result = {"faiss": faiss.__version__, "threads": faiss.omp_get_max_threads(), "runs": []}
for precision in ["ubinary", "int8"]:
    for d in dims:
        t0 = time.perf_counter()
        if precision == "ubinary":
            index = faiss.IndexBinaryFlat(((d + 7) // 8) * 8)
            for s in range(0, c.shape[0], 100000):
                index.add(np.packbits(np.asarray(c[s : s + 100000, :d]) > 0, axis=-1))
            qx = np.packbits(q[:, :d] > 0, axis=-1)
        else:
            index = faiss.IndexFlatIP(d)
            for s in range(0, c.shape[0], 100000):
                index.add(int8(np.asarray(c[s : s + 100000, :d])).astype(np.float32))
            qx = int8(q[:, :d]).astype(np.float32)
        t1 = time.perf_counter()
        _, idx = index.search(qx, k)
        t2 = time.perf_counter()
        idx[:check].astype("<i4").tofile(f"{out}/faiss_{precision}_{d}.i32")
        result["runs"].append({"precision": precision, "dim": d, "build_s": t1 - t0, "search_s": t2 - t1})
        print(f"faiss {precision} dim {d}: build {t1 - t0:.2f} s, search {t2 - t1:.2f} s", file=sys.stderr)
        del index
print(json.dumps(result))
