// `npm run bench -- NAME`: runs bench/NAME.ts, which prints one JSON document on stdout.
// Benchmarks are registered here explicitly so a typo is an error, not a silent no-op.

const BENCHES: Record<string, () => Promise<{ main(argv: string[]): Promise<void> | void }>> = {
  mmu: () => import('./mmu.js'),
  mmap: () => import('./mmap.js'),
  nibble: () => import('./nibble.js'),
  'vas-switch': () => import('./vasSwitch.js'),
  'tlb-tagging': () => import('./tlbTagging.js'),
  gups: () => import('./gups.js'),
  'shadow-policy': () => import('./shadowPolicy.js'),
  sam: () => import('./sam.js'),
};

async function run(): Promise<number> {
  const [name, ...rest] = process.argv.slice(2);
  if (!name || name === '--help' || name === '-h') {
    process.stderr.write(`usage: npm run bench -- NAME [args]\nbenchmarks: ${Object.keys(BENCHES).join(', ')}\n`);
    return name ? 0 : 2;
  }
  const load = BENCHES[name];
  if (!load) {
    process.stderr.write(`bench: unknown benchmark "${name}" (known: ${Object.keys(BENCHES).join(', ')})\n`);
    return 2;
  }
  const mod = await load();
  await mod.main(rest);
  return 0;
}

run().then(
  (code) => { process.exitCode = code; },
  (err: unknown) => {
    process.stderr.write(`bench: ${err instanceof Error ? err.stack ?? err.message : String(err)}\n`);
    process.exitCode = 1;
  },
);
