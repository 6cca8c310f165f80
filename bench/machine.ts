/**
 * What every benchmark's JSON says about the machine it ran on, so figures from different runs
 * and machines can be told apart: CPU, cores, memory, OS and the load average at the time (the
 * machines are shared; a high load explains a noisy run).
 */
import os from 'node:os';

export interface MachineInfo {
  cpu: string;
  cores: number;
  memoryGiB: number;
  platform: string;
  loadAverage: number[];
}

export function machineInfo(): MachineInfo {
  const cpus = os.cpus();
  return {
    cpu: cpus[0]?.model ?? 'unknown',
    cores: cpus.length,
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
    platform: `${os.platform()} ${os.release()}`,
    loadAverage: os.loadavg(),
  };
}
