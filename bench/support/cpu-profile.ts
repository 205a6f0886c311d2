/**
 * Reads a V8 `.cpuprofile` (`node --cpu-prof`) and adds up self time by where the code
 * lives: a package in node_modules, a core folder or plugin of Flowgate, Node's internals,
 * the garbage collector, or idle (waiting for I/O).
 */
import { readFileSync } from 'node:fs';

interface ProfileNode { id: number; hitCount?: number; callFrame: { functionName: string; url: string } }
interface Profile { nodes: ProfileNode[]; startTime: number; endTime: number }

export function placeOf(url: string, functionName: string): string {
  if (!url) return functionName.startsWith('(') ? functionName : '(native)';
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (pkg) return `npm ${pkg[1]}`;
  if (url.startsWith('node:')) return 'node internals';
  const own = /\/dist\/((?:core|plugins)\/[^/]+)/.exec(url);
  if (own) return `flowgate ${own[1]}`;
  return 'other';
}

export function summariseCpuProfile(file: string, top = 15): Array<Record<string, string | number>> {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile;
  const totalHits = profile.nodes.reduce((sum, n) => sum + (n.hitCount ?? 0), 0) || 1;
  const wallMs = (profile.endTime - profile.startTime) / 1000;
  const byPlace = new Map<string, number>();
  for (const node of profile.nodes) {
    const place = placeOf(node.callFrame.url, node.callFrame.functionName);
    byPlace.set(place, (byPlace.get(place) ?? 0) + (node.hitCount ?? 0));
  }
  const idle = byPlace.get('(idle)') ?? 0;
  return [...byPlace.entries()].sort((a, b) => b[1] - a[1]).slice(0, top).map(([place, hits]) => ({
    place, 'share of samples %': Number(((hits / totalHits) * 100).toFixed(1)),
    'share of busy time %': place === '(idle)' ? '-' : Number(((hits / Math.max(1, totalHits - idle)) * 100).toFixed(1)),
    'ms': Math.round((hits / totalHits) * wallMs),
  }));
}
