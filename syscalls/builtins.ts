// The built-in calls, registered into the machine's table once, when dispatch is first imported.

import { registerSyscalls } from './table.js';
import { processCalls } from './calls/process.js';
import { memoryCalls } from './calls/memory.js';
import { fileCalls } from './calls/files.js';
import { ipcCalls } from './calls/ipc.js';

registerSyscalls([...processCalls, ...memoryCalls, ...fileCalls, ...ipcCalls]);

// SpaceJMP's calls (Figure 40) live beside the kernel module that implements them.
import { spacejmpCalls } from './calls/spacejmp.js';
registerSyscalls(spacejmpCalls);
