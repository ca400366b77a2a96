// Summarise a V8 CPU profile (node --cpu-prof) as text: the functions with the most self time and
// the most inclusive time, as percentages of the profile. Emulator wall-clock only.
//   node --cpu-prof --cpu-prof-dir=prof dist/bench/run.js mmu --only gups-xor64:4:4K
//   node dist/bench/cpuProfileSummary.js prof/*.cpuprofile [N]

import { readFileSync } from 'node:fs';

interface ProfileNode { id: number; callFrame: { functionName: string; url: string; lineNumber: number }; children?: number[] }
interface Profile { nodes: ProfileNode[]; samples: number[]; timeDeltas: number[] }

export function summarise(p: Profile, top: number): string {
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const name = (n: ProfileNode): string => `${n.callFrame.functionName || '(anonymous)'} ${n.callFrame.url.split('/').slice(-2).join('/')}:${n.callFrame.lineNumber + 1}`;
  const self = new Map<string, number>();
  const incl = new Map<string, number>();
  let total = 0;
  p.samples.forEach((id, i) => {
    const dt = p.timeDeltas[i] ?? 0;
    total += dt;
    const k = name(byId.get(id)!);
    self.set(k, (self.get(k) ?? 0) + dt);
    const seen = new Set<string>();
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
      const key = name(byId.get(at)!);
      if (!seen.has(key)) { seen.add(key); incl.set(key, (incl.get(key) ?? 0) + dt); }
    }
  });
  const table = (m: Map<string, number>): string[] => [...m].sort((a, b) => b[1] - a[1]).slice(0, top).map(([k, v]) => `  ${((100 * v) / total).toFixed(1).padStart(5)}%  ${k}`);
  return [`profile: ${(total / 1e6).toFixed(2)} s of samples (emulator wall-clock)`, 'self time:', ...table(self), 'inclusive time:', ...table(incl)].join('\n') + '\n';
}

const [file, n] = process.argv.slice(2);
if (file) process.stdout.write(summarise(JSON.parse(readFileSync(file, 'utf8')) as Profile, Number(n ?? 20)));
else { process.stderr.write('usage: node dist/bench/cpuProfileSummary.js FILE.cpuprofile [N]\n'); process.exitCode = 2; }
