"""Baselines for `npm run bench -- exact`, on the same .npy data as emb-bench, in the same run.

  numpy Q.npy C.npy DIMS KS NQS: one float32 sgemm of the full-width product into a preallocated
      output (numpy's BLAS; median of 3), and the sentence-transformers way per dim (score_numpy.py)
  faiss Q.npy C.npy DIMS KS NQS: FAISS exact search, IndexFlatIP per dim on the truncated,
      normalised vectors (index build + search; median of 3), and the BLAS library FAISS loaded
  serve Q.npy C.npy: one sgemm per line read (the line: nq), its time printed as a JSON line, so
      that emb-bench's runs and the sgemm alternate (each engine time paired with an sgemm next
      to it in time); it answers once its BLAS threads have stopped spinning

Prints one JSON object (serve: one a line); times in seconds, keyed by nq and k.
"""
import json, os, sys, time
import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from score_numpy import normalize, per_dim  # noqa: E402


def median_of_3(fn):
    times = []
    for _ in range(3):
        t0 = time.perf_counter(); fn(); times.append(time.perf_counter() - t0)
    return sorted(times)[1]


def settle():
    """Returns once this process is idle: OpenBLAS's worker threads spin after a call before they
    sleep (about 0.1 s of CPU on the 2-core host of bench/README), and the engine run that follows
    must not share the cores with them."""
    deadline = time.monotonic() + 2
    while time.monotonic() < deadline:
        cpu = time.process_time()
        time.sleep(0.02)
        if time.process_time() - cpu < 0.002:
            return


def blas_libraries():
    with open('/proc/self/maps') as maps:
        return sorted({line.split()[-1] for line in maps if 'blas' in line.lower() and '/' in line})


mode, q_path, c_path = sys.argv[1:4]
if mode == 'serve':
    q_all, c = np.load(q_path), np.load(c_path)
    products = {}
    for line in sys.stdin:
        nq = int(line)
        if nq not in products:
            products[nq] = np.empty((nq, len(c)), dtype=np.float32)
            np.matmul(q_all[:nq], c.T, out=products[nq])  # warm-up
        t0 = time.perf_counter(); np.matmul(q_all[:nq], c.T, out=products[nq]); s = time.perf_counter() - t0
        settle()
        print(json.dumps({'sgemm_s': s}), flush=True)
    sys.exit(0)
dims = [int(d) for d in sys.argv[4].split(',')]
ks = [int(k) for k in sys.argv[5].split(',')]
nqs = [int(n) for n in sys.argv[6].split(',')]
q_all, c = np.load(q_path), np.load(c_path)
out = {}
if mode == 'numpy':
    out['numpy'] = np.__version__
    blas = np.show_config(mode='dicts')['Build Dependencies']['blas']
    out['blas'] = f"{blas['name']} {blas['version']}"
    for nq in nqs:
        q = q_all[:nq]
        product = np.empty((nq, len(c)), dtype=np.float32)
        np.matmul(q, c.T, out=product)  # warm-up
        out[f'sgemm_nq{nq}'] = median_of_3(lambda: np.matmul(q, c.T, out=product))
        del product
        for k in ks:
            t0 = time.perf_counter(); per_dim(q, c, dims, k); out[f'st_way_nq{nq}_k{k}'] = time.perf_counter() - t0
else:
    import faiss
    faiss.omp_set_num_threads(int(os.environ.get('BENCH_THREADS', '2')))
    out['faiss'] = faiss.__version__
    for nq in nqs:
        for k in ks:
            def run():
                for d in dims:
                    index = faiss.IndexFlatIP(d)
                    index.add(np.ascontiguousarray(normalize(c[:, :d])))
                    index.search(np.ascontiguousarray(normalize(q_all[:nq, :d])), k)
            run()  # warm-up
            out[f'faiss_nq{nq}_k{k}'] = median_of_3(run)
    out['blas'] = blas_libraries()
print(json.dumps(out))
