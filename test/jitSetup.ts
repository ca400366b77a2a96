// Every test file runs with the V8 flags the entry points set (mmu/jitTuning.ts), so the suite
// exercises the code as users' runs compile it.
import { tuneJit } from '../mmu/jitTuning.js';

tuneJit();
