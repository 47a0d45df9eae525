// Model folders in the sentence-transformers ONNX layout, written around an ONNX graph: the
// demo's models, and the tests' and benchmarks' generated models.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const SPECIAL_TOKENS = ['[PAD]', '[UNK]', '[CLS]', '[SEP]'];

/** tokenizer.json for a BERT-style WordPiece tokenizer with [CLS]/[SEP] post-processing. */
export function wordPieceTokenizer(vocab: string[]): object {
  const special = (content: string, id: number) => ({ id, content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true });
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: SPECIAL_TOKENS.map(special),
    normalizer: { type: 'BertNormalizer', clean_text: true, handle_chinese_chars: true, strip_accents: null, lowercase: true },
    pre_tokenizer: { type: 'BertPreTokenizer' },
    post_processor: {
      type: 'TemplateProcessing',
      single: [{ SpecialToken: { id: '[CLS]', type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }, { SpecialToken: { id: '[SEP]', type_id: 0 } }],
      pair: [
        { SpecialToken: { id: '[CLS]', type_id: 0 } },
        { Sequence: { id: 'A', type_id: 0 } },
        { SpecialToken: { id: '[SEP]', type_id: 0 } },
        { Sequence: { id: 'B', type_id: 1 } },
        { SpecialToken: { id: '[SEP]', type_id: 1 } },
      ],
      special_tokens: { '[CLS]': { id: '[CLS]', ids: [2], tokens: ['[CLS]'] }, '[SEP]': { id: '[SEP]', ids: [3], tokens: ['[SEP]'] } },
    },
    decoder: { type: 'WordPiece', prefix: '##', cleanup: true },
    model: {
      type: 'WordPiece',
      unk_token: '[UNK]',
      continuing_subword_prefix: '##',
      max_input_chars_per_word: 100,
      vocab: Object.fromEntries(vocab.map((t, i) => [t, i])),
    },
  };
}

export interface FolderOptions {
  width: number;
  maxSeqLength: number;
  pooling?: string; // 1_Pooling mode
  includePrompt?: boolean;
  normalize?: boolean;
  prompts?: Record<string, string>;
  config?: object; // config.json (transformers' model config), for other runtimes
}

/** Writes the files around onnx/model.onnx that sentence-transformers' layout has. */
export function writeModelFolder(dir: string, onnx: Buffer, vocab: string[], o: FolderOptions): void {
  mkdirSync(join(dir, 'onnx'), { recursive: true });
  mkdirSync(join(dir, '1_Pooling'), { recursive: true });
  writeFileSync(join(dir, 'onnx', 'model.onnx'), onnx);
  writeFileSync(join(dir, 'tokenizer.json'), JSON.stringify(wordPieceTokenizer(vocab)));
  writeFileSync(
    join(dir, 'tokenizer_config.json'),
    JSON.stringify({
      model_max_length: o.maxSeqLength,
      do_lower_case: true,
      tokenizer_class: 'BertTokenizer',
      pad_token: '[PAD]',
      unk_token: '[UNK]',
      cls_token: '[CLS]',
      sep_token: '[SEP]',
    }),
  );
  writeFileSync(join(dir, 'sentence_bert_config.json'), JSON.stringify({ max_seq_length: o.maxSeqLength, do_lower_case: false }));
  writeFileSync(join(dir, 'config_sentence_transformers.json'), JSON.stringify({ prompts: o.prompts ?? {}, similarity_fn_name: 'cosine' }));
  if (o.config) writeFileSync(join(dir, 'config.json'), JSON.stringify(o.config));
  const mode = o.pooling ?? 'mean';
  writeFileSync(
    join(dir, '1_Pooling', 'config.json'),
    JSON.stringify({
      word_embedding_dimension: o.width,
      pooling_mode_cls_token: mode === 'cls',
      pooling_mode_mean_tokens: mode === 'mean',
      pooling_mode_max_tokens: mode === 'max',
      pooling_mode_mean_sqrt_len_tokens: mode === 'mean_sqrt_len_tokens',
      pooling_mode_weightedmean_tokens: mode === 'weightedmean',
      pooling_mode_lasttoken: mode === 'lasttoken',
      include_prompt: o.includePrompt ?? true,
    }),
  );
  const modules = [
    { idx: 0, name: '0', path: '', type: 'sentence_transformers.models.Transformer' },
    { idx: 1, name: '1', path: '1_Pooling', type: 'sentence_transformers.models.Pooling' },
  ];
  if (o.normalize) modules.push({ idx: 2, name: '2', path: '2_Normalize', type: 'sentence_transformers.models.Normalize' });
  writeFileSync(join(dir, 'modules.json'), JSON.stringify(modules));
}
