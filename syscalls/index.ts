// The system-call layer: the table (and registration of more calls), dispatch with its blocking
// protocol, strace, and the ABI's constants. The trace language lives in ./trace.
export {
  SYSCALLS, SyscallTable, defineSyscall, registerSyscalls, FIRST_CUSTOM_NUMBER,
  type ArgSpec, type ArgType, type ArgTypeMap, type BodyFactory, type RawArg, type SysResult, type SyscallDef, type SyscallDraft,
} from './table.js';
export { syscall, isError, isWouldBlock, lastSyscallError, WouldBlock, type SyscallOptions, type SyscallReturn, type LastError } from './dispatch.js';
export { straceOf, setTraced, Strace, type StraceRecord, type StraceSink } from './strace.js';
export { encodeWaitStatus } from './calls/process.js';
export { FileHandle } from './calls/files.js';
export * from './constants.js';
