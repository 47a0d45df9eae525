// A throwaway single-node Slurm cluster for tests: munged (if not running), slurmctld and
// slurmd on free ports of 127.0.0.1, state in a temp folder, stopped after. Null (with the
// reason) where this machine cannot run one: not root, or Debian's slurm-wlm/munge missing.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';

export interface SlurmCluster {
  env: Record<string, string>;
  dir: string;
  stop(): void;
}

const which = (tool: string) => spawnSync('sh', ['-c', `command -v ${tool}`]).status === 0;

export function slurmUnavailable(): string | null {
  if (process.getuid?.() !== 0) return 'not root (slurmd must run as root)';
  const missing = ['slurmctld', 'slurmd', 'munged', 'sbatch', 'squeue'].filter((t) => !which(t));
  return missing.length ? `missing ${missing.join(', ')} (apt-get install slurm-wlm munge)` : null;
}

export function startSlurm(): SlurmCluster {
  const dir = mkdtempSync(join(tmpdir(), 'emb-slurm-'));
  for (const d of ['state', 'spool']) mkdirSync(join(dir, d));
  const host = hostname();
  const port = 20000 + Math.floor(Math.random() * 20000);
  const conf = join(dir, 'slurm.conf');
  writeFileSync(
    conf,
    [
      'ClusterName=embbench',
      `SlurmctldHost=${host}(127.0.0.1)`,
      `SlurmctldPort=${port}`,
      `SlurmdPort=${port + 1}`,
      'AuthType=auth/munge',
      `StateSaveLocation=${dir}/state`,
      `SlurmdSpoolDir=${dir}/spool`,
      `SlurmctldPidFile=${dir}/slurmctld.pid`,
      `SlurmdPidFile=${dir}/slurmd.pid`,
      `SlurmctldLogFile=${dir}/slurmctld.log`,
      `SlurmdLogFile=${dir}/slurmd.log`,
      'SlurmUser=root',
      'SlurmdUser=root',
      'ProctrackType=proctrack/linuxproc',
      'TaskPlugin=task/none',
      'ReturnToService=2',
      'SchedulerType=sched/backfill',
      'SelectType=select/cons_tres',
      'SelectTypeParameters=CR_Core',
      'MpiDefault=none',
      'JobCompType=jobcomp/none',
      `NodeName=${host} NodeAddr=127.0.0.1 CPUs=2 RealMemory=4000 State=UNKNOWN`,
      `PartitionName=debug Nodes=${host} Default=YES MaxTime=INFINITE State=UP`,
    ].join('\n') + '\n',
  );
  let startedMunge = false;
  if (spawnSync('pgrep', ['-x', 'munged']).status !== 0) {
    mkdirSync('/run/munge', { recursive: true });
    if (!existsSync('/etc/munge/munge.key')) execFileSync('mungekey', ['--create'], { stdio: 'ignore' });
    execFileSync('munged', ['--force'], { stdio: 'ignore' });
    startedMunge = true;
  }
  const env = { SLURM_CONF: conf };
  execFileSync('slurmctld', ['-f', conf], { env: { ...process.env, ...env }, stdio: 'ignore' });
  execFileSync('slurmd', ['-f', conf], { env: { ...process.env, ...env }, stdio: 'ignore' });
  for (let i = 0; i < 60; i++) {
    const r = spawnSync('sinfo', ['-h', '-o', '%T'], { env: { ...process.env, ...env }, encoding: 'utf8' });
    if (r.status === 0 && /idle/.test(r.stdout)) break;
    spawnSync('sleep', ['0.5']);
  }
  const kill = (pidFile: string) => {
    try {
      process.kill(Number(readFileSync(pidFile, 'utf8').trim()), 'SIGTERM');
    } catch {
      /* already gone */
    }
  };
  return {
    env,
    dir,
    stop() {
      kill(join(dir, 'slurmd.pid'));
      kill(join(dir, 'slurmctld.pid'));
      if (startedMunge) kill('/run/munge/munged.pid');
    },
  };
}
