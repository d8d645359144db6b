import type { ServiceStatus } from '../core/service.js';
import type { LoadReport } from '../config/store.js';

export interface StatusReply {
  version: string;
  board: string;
  uptimeS: number;
  config: LoadReport;
  services: ServiceStatus[];
}

function duration(s: number): string {
  const d = Math.floor(s / 86400);
  const h = Math.floor((s % 86400) / 3600);
  const m = Math.floor((s % 3600) / 60);
  return d ? `${d}d ${h}h` : h ? `${h}h ${m}m` : `${m}m ${s % 60}s`;
}

/** The human view of `dvr status`: what an installer reads on a serial console. */
export function formatStatus(r: StatusReply): string {
  const lines = [
    `firmware ${r.version} on board ${r.board}, up ${duration(r.uptimeS)}`,
    `config: ${r.config.source}${r.config.migratedFrom ? ` (migrated from version ${r.config.migratedFrom})` : ''}`,
    ...r.config.problems.map((p) => `  ! ${p}`),
    'services:',
  ];
  const width = Math.max(...r.services.map((s) => s.name.length), 4);
  for (const s of r.services) {
    const err = s.state !== 'running' && s.lastError ? `  (${s.lastError})` : '';
    lines.push(`  ${s.name.padEnd(width)}  ${s.state}${err}`);
  }
  return lines.join('\n');
}
