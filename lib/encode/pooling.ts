// Pooling of token embeddings [batch, seq, width] into one vector per text, with
// sentence-transformers' Pooling module's formulas. Padding is on the right.
import type { PoolingMode } from './model.js';

export function pool(
  tokens: Float32Array,
  batch: number,
  seq: number,
  width: number,
  mask: Uint8Array, // [batch, seq]: 1 for a real token (prompt tokens already zeroed if excluded)
  modes: PoolingMode[],
  out: Float32Array, // [batch, width * modes.length]
): void {
  const outWidth = width * modes.length;
  for (let b = 0; b < batch; b++) {
    const base = b * seq * width;
    modes.forEach((mode, m) => {
      const o = b * outWidth + m * width;
      const acc = new Float64Array(width);
      if (mode === 'cls') {
        for (let j = 0; j < width; j++) out[o + j] = tokens[base + j];
        return;
      }
      if (mode === 'lasttoken') {
        let last = 0;
        for (let t = 0; t < seq; t++) if (mask[b * seq + t]) last = t;
        for (let j = 0; j < width; j++) out[o + j] = tokens[base + last * width + j];
        return;
      }
      if (mode === 'max') {
        acc.fill(-1e9);
        for (let t = 0; t < seq; t++) {
          if (!mask[b * seq + t]) continue;
          for (let j = 0; j < width; j++) acc[j] = Math.max(acc[j], tokens[base + t * width + j]);
        }
        for (let j = 0; j < width; j++) out[o + j] = acc[j];
        return;
      }
      // float32 arithmetic in sequence order, as torch sums a [batch, seq, width] tensor.
      const f = Math.fround;
      let weightSum = 0;
      for (let t = 0; t < seq; t++) {
        if (!mask[b * seq + t]) continue;
        const w = mode === 'weightedmean' ? t + 1 : 1;
        weightSum += w;
        for (let j = 0; j < width; j++) acc[j] = f(acc[j] + f(w * tokens[base + t * width + j]));
      }
      const denom = f(mode === 'mean_sqrt_len_tokens' ? Math.sqrt(Math.max(weightSum, 1e-9)) : Math.max(weightSum, 1e-9));
      for (let j = 0; j < width; j++) out[o + j] = f(acc[j] / denom);
    });
  }
}

/** x / max(|x|, 1e-12) per row, as torch.nn.functional.normalize. */
export function normalizeRows(data: Float32Array, rows: number, width: number): void {
  for (let r = 0; r < rows; r++) {
    let ss = 0;
    for (let j = 0; j < width; j++) ss += data[r * width + j] ** 2;
    const inv = 1 / Math.max(Math.sqrt(ss), 1e-12);
    for (let j = 0; j < width; j++) data[r * width + j] *= inv;
  }
}
