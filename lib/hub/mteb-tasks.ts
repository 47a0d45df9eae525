// MTEB's retrieval tasks that set `ignore_identical_ids` (a document whose id equals the query's
// is left out of its ranking before the metrics), by their Hub datasets: read from
// embeddings-benchmark/mteb a905523 (v2.20.0-7) by test/fixtures/mteb/identical_ids.py, which
// says how to regenerate the list. Under the trec conventions a run on one of these datasets does
// what MTEB's task does unless told otherwise (`ignoreIdenticalIds: false`).
import type { Dataset } from '../data/dataset.js';
import type { KLists } from '../metrics/index.js';

/** The MTEB commit the list was read from. */
export const MTEB_TASKS_COMMIT = 'a905523d0111f999360b312bd4a601a0a97a0e1c';

/** Hub datasets whose MTEB task sets ignore_identical_ids. */
export const MTEB_IGNORE_IDENTICAL_IDS: ReadonlySet<string> = new Set([
  'MCINext/FEVER_FA_test_top_250_only_w_correct-v2',
  'MCINext/MSMARCO_FA_test_top_250_only_w_correct-v2',
  'MCINext/arguana-fa',
  'MCINext/arguana-fa-v2',
  'MCINext/fiqa-fa',
  'MCINext/fiqa-fa-v2',
  'MCINext/msmarco-fa',
  'MCINext/persian-web-document-retrieval',
  'MCINext/quora-fa',
  'MCINext/quora-fa-v2',
  'MCINext/synthetic-persian-chatbot-rag-faq-retrieval',
  'MCINext/synthetic-persian-chatbot-rag-topics-retrieval',
  'MCINext/synthetic-persian-chatbot-topics-retrieval',
  'MCINext/synthetic-persian-qa-retrieval',
  'McGill-NLP/mlquestions',
  'ai-forever/ria-news-retrieval',
  'ai-forever/rubq-retrieval',
  'clips/beir-nl-fever',
  'clips/beir-nl-fiqa',
  'clips/beir-nl-mmarco',
  'clips/beir-nl-quora',
  'clips/mteb-nl-bbsard',
  'clips/mteb-nl-legalqa-pr',
  'if-ir/fiqa',
  'mlsa-iai-msu-lab/ru_sci_bench_cite_retrieval',
  'mlsa-iai-msu-lab/ru_sci_bench_cocite_retrieval',
  'mteb/ArguAna-PL',
  'mteb/BSARDRetrieval',
  'mteb/BSARDRetrieval.v2',
  'mteb/DanFEVER',
  'mteb/EcomRetrieval',
  'mteb/FEVER_test_top_250_only_w_correct-v2',
  'mteb/FeedbackQARetrieval',
  'mteb/FiQA-PL',
  'mteb/JaCWIRRetrieval',
  'mteb/JaGovFaqsRetrieval',
  'mteb/MMarcoRetrieval',
  'mteb/MSMARCO-PL',
  'mteb/MSMARCO-PLHardNegatives',
  'mteb/MSMARCO_test_top_250_only_w_correct-v2',
  'mteb/MedicalRetrieval',
  'mteb/NLPJournalAbsArticleRetrieval',
  'mteb/NLPJournalAbsArticleRetrieval.V2',
  'mteb/QuoraRetrieval_test_top_250_only_w_correct-v2',
  'mteb/RiaNewsRetrieval_test_top_250_only_w_correct-v2',
  'mteb/T2Retrieval',
  'mteb/VideoRetrieval',
  'mteb/arguana',
  'mteb/fever',
  'mteb/fiqa',
  'mteb/msmarco',
  'mteb/quora',
  'whybe-choi/trec-dl-2019',
  'whybe-choi/trec-dl-2020',
]);

/**
 * The k lists a run on `dataset` uses: under the trec conventions, with ignoreIdenticalIds on
 * where the dataset is a Hub dataset whose MTEB task sets it and the caller left it unset; and
 * the line that says so.
 */
export function taskKLists(dataset: Dataset, kLists: KLists): { kLists: KLists; note?: string } {
  if (kLists.conventions !== 'trec' || kLists.ignoreIdenticalIds !== undefined) return { kLists };
  const id = /^hf:\/\/datasets\/([^@]+)@/.exec(dataset.source)?.[1];
  if (!id || !MTEB_IGNORE_IDENTICAL_IDS.has(id)) return { kLists };
  return {
    kLists: { ...kLists, ignoreIdenticalIds: true },
    note: `${id}: MTEB's task sets ignore_identical_ids, so a document whose id equals the query's is left out of its ranking (--no-ignore-identical-ids keeps it)`,
  };
}
