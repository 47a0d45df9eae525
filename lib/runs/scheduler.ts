// The shard a scheduler's task is: Slurm job arrays and Kubernetes Indexed Jobs name it in the
// environment, so one command line serves every task of an array.
import { invalidParameter } from '../errors.js';
import { parseShard, type Shard } from '../score/shards.js';

/**
 * The shard the scheduler's environment names, if any: Slurm job arrays (SLURM_ARRAY_TASK_ID of
 * SLURM_ARRAY_TASK_COUNT; arrays should start at 0) or Kubernetes Indexed Jobs
 * (JOB_COMPLETION_INDEX, with the count in EMB_BENCH_SHARD_COUNT: Kubernetes does not pass
 * the job's completions to the pod, so the manifest sets it from the same value).
 */
export function shardFromEnv(env: NodeJS.ProcessEnv = process.env): Shard | null {
  const pick = (index: string | undefined, count: string | undefined, names: string) => {
    if (index === undefined) return null;
    if (count === undefined) throw invalidParameter('shard', `${names.split(' ')[1]} alongside ${names.split(' ')[0]}`, 'unset', 'ERR_OPTION');
    return parseShard(`${index}/${count}`, names.split(' ')[0]);
  };
  return (
    pick(env.SLURM_ARRAY_TASK_ID, env.SLURM_ARRAY_TASK_COUNT, 'SLURM_ARRAY_TASK_ID SLURM_ARRAY_TASK_COUNT') ??
    pick(env.JOB_COMPLETION_INDEX, env.EMB_BENCH_SHARD_COUNT, 'JOB_COMPLETION_INDEX EMB_BENCH_SHARD_COUNT')
  );
}
