// The syntax tree of the trace language (docs/traces.md). The parser produces it, the runner
// and the interactive shell consume it. Every node carries a Span so that runtime errors can be
// reported as `file:line:col: message` exactly like parse errors.

/** A source range. Lines and columns are 1-based; endCol is exclusive (one past the last char). */
export interface Span {
  file: string;
  line: number;
  col: number;
  endLine: number;
  endCol: number;
}

// ---------------------------------------------------------------------------------------------
// Expressions (arguments, values, addresses)

export interface NumberLit {
  kind: 'number';
  /** Always exact: 57-bit user addresses do not fit a JS number. */
  value: bigint;
  /** Kept so that a transcript can echo `0660` or `0x7f00_0000_0000` as it was written. */
  raw: string;
  radix: 2 | 8 | 10 | 16;
  span: Span;
}

/**
 * A double, written with a point (`0.5`, `2.0`, `1.5e3`) or as `NaN` / `Infinity`: passed to a
 * call as the double it is (what a program passing a JS number would pass), never rounded to an
 * integer, so hostile arguments (NaN, ±Infinity, fractions, integers beyond 2^53) can be written.
 */
export interface FloatLit {
  kind: 'float';
  value: number;
  raw: string;
  span: Span;
}

export interface StringLit {
  kind: 'string';
  value: string;
  span: Span;
}

/** A script variable, bound earlier by `name = ...` (lowercase first letter). */
export interface NameRef {
  kind: 'name';
  name: string;
  span: Span;
}

/**
 * A symbolic constant (uppercase first letter): protections `R`, `RW`, `RWX`, `NONE`, flags
 * `MAP_FIXED`, commands, `PRIMARY`, `CURRENT`. The runner owns their values.
 */
export interface ConstRef {
  kind: 'const';
  name: string;
  span: Span;
}

export interface NegExpr {
  kind: 'neg';
  operand: Expr;
  span: Span;
}

export type BinaryOp = '+' | '-' | '*' | '|';

export interface BinaryExpr {
  kind: 'binary';
  op: BinaryOp;
  left: Expr;
  right: Expr;
  span: Span;
}

export type Expr = NumberLit | FloatLit | StringLit | NameRef | ConstRef | NegExpr | BinaryExpr;

// ---------------------------------------------------------------------------------------------
// Results: binding and expectation

/** `name = call(...)`: the name receives the raw result, error or not. */
export interface Binding {
  name: string;
  span: Span;
}

export type CompareOp = '>' | '>=' | '<' | '<=' | '!=';

export type Expectation =
  /** `= 0`, `= vid`, `= base + 8`: the result equals the value. */
  | { kind: 'value'; value: Expr; span: Span }
  /** `= -EEXIST`: the call failed with this errno (errno holds the name without the minus). */
  | { kind: 'errno'; errno: string; span: Span }
  /** `= >0`, `= >=0`, `= !=0`, `= <0`, `= <=base`. Signed 64-bit comparison. */
  | { kind: 'compare'; op: CompareOp; value: Expr; span: Span }
  /** `= ok`: any result that is not an error (not -1..-4095). */
  | { kind: 'ok'; span: Span }
  /** `= any`: documents that the result is deliberately not checked. */
  | { kind: 'any'; span: Span };

// ---------------------------------------------------------------------------------------------
// Statements

/** `process.thread`, from `as alice.t2`, `@alice`, `thread alice.t2`. */
export interface ActorRef {
  process: string;
  /** Absent means the process's first thread, `main`. */
  thread?: string;
  span: Span;
}

/** `[name =] call(args) [= expectation]` */
export interface CallStmt {
  kind: 'call';
  name: string;
  nameSpan: Span;
  args: Expr[];
  bind?: Binding;
  expect?: Expectation;
  span: Span;
}

/** `name = expr`: a script variable, evaluated by the runner when reached. */
export interface LetStmt {
  kind: 'let';
  name: string;
  nameSpan: Span;
  value: Expr;
  span: Span;
}

export type Width = 8 | 16 | 32 | 64;

/** `[name =] loadN ADDR [= expectation]` */
export interface LoadStmt {
  kind: 'load';
  width: Width;
  addr: Expr;
  bind?: Binding;
  expect?: Expectation;
  span: Span;
}

/** `storeN ADDR VALUE` (the value is truncated to the width, so -1 stores all ones). */
export interface StoreStmt {
  kind: 'store';
  width: Width;
  addr: Expr;
  value: Expr;
  span: Span;
}

/** `memset ADDR LEN BYTE` */
export interface MemsetStmt {
  kind: 'memset';
  addr: Expr;
  len: Expr;
  byte: Expr;
  span: Span;
}

/** `memcpy DST SRC LEN` */
export interface MemcpyStmt {
  kind: 'memcpy';
  dst: Expr;
  src: Expr;
  len: Expr;
  span: Span;
}

export type MemStmt = LoadStmt | StoreStmt | MemsetStmt | MemcpyStmt;

export type FaultAccess = 'read' | 'write';
/** unmapped: no mapping (SEGV_MAPERR); protection: mapped but not permitted (SEGV_ACCERR); noncanonical: #GP. */
export type FaultReason = 'unmapped' | 'protection' | 'noncanonical';

/**
 * `expect fault [read|write] [unmapped|protection|noncanonical] { ... }` or the same prefix on one
 * memory statement. Every memory access inside must fault (a faulting access has no effect and
 * execution continues with the next statement); one that does not fault fails the expectation.
 */
export interface ExpectFaultStmt {
  kind: 'expectFault';
  access?: FaultAccess;
  reason?: FaultReason;
  body: MemStmt[];
  form: 'block' | 'prefix';
  span: Span;
}

/** `process NAME [uid=N] [gid=N] [groups=N,N] [cpu=N] [{ ... }]` */
export interface ProcessStmt {
  kind: 'process';
  name: string;
  nameSpan: Span;
  uid?: Expr;
  gid?: Expr;
  groups?: Expr[];
  cpu?: Expr;
  /** With a block, the block runs as the new process (its main thread); null: declaration only. */
  body: Statement[] | null;
  span: Span;
}

/** `thread PROC.NAME [cpu=N] [{ ... }]`: a new thread sharing PROC's address spaces. */
export interface ThreadStmt {
  kind: 'thread';
  actor: ActorRef & { thread: string };
  cpu?: Expr;
  body: Statement[] | null;
  span: Span;
}

/**
 * `as REF { ... }`, `as REF` and `@REF statement`.
 * body null (`as REF` alone): REF runs every following statement up to the end of the enclosing
 * block or file; this is also how the interactive shell changes its current process.
 */
export interface AsStmt {
  kind: 'as';
  actor: ActorRef;
  body: Statement[] | null;
  form: 'block' | 'rest' | 'prefix';
  span: Span;
}

export type MachineValue = bigint | string | boolean;

export interface MachineSetting {
  key: string;
  value: MachineValue;
  raw: string;
  span: Span;
}

/** `machine key=value ...`, only before the first other statement. */
export interface MachineStmt {
  kind: 'machine';
  settings: MachineSetting[];
  span: Span;
}

/** `include "path"`: the included file's statements, parsed in place. */
export interface IncludeStmt {
  kind: 'include';
  path: string;
  /** The loader's name for the file, used in the spans of body. */
  file: string;
  body: Statement[];
  span: Span;
}

/** `expect cycles OP N`: the modelled cycles of the previous statement compare so. */
export interface ExpectCyclesStmt {
  kind: 'expectCycles';
  op: CompareOp | '=';
  value: Expr;
  span: Span;
}

/** `expect errno one of (ENOENT, ESRCH)` or `expect errno ENOENT`: the previous call failed with one of these. */
export interface ExpectErrnoStmt {
  kind: 'expectErrno';
  errnos: string[];
  span: Span;
}

/** `expect blocked ACTOR`: that thread is still asleep in a call. */
export interface ExpectBlockedStmt {
  kind: 'expectBlocked';
  actor: ActorRef;
  span: Span;
}

/** `probe loadN ADDR` / `probe storeN ADDR V`: the access is tried; a fault is recorded, nobody is killed. */
export interface ProbeStmt {
  kind: 'probe';
  access: LoadStmt | StoreStmt;
  span: Span;
}

/** `check invariants`: the kernel's invariant checker must find nothing. */
export interface CheckStmt {
  kind: 'check';
  what: 'invariants';
  span: Span;
}

/** `show refs seg SID`, `show refs vas VID`, `show locks SID`, `show frames`: kernel state into the transcript. */
export interface ShowStmt {
  kind: 'show';
  what: 'refs' | 'locks' | 'frames';
  target?: 'seg' | 'vas';
  arg?: Expr;
  span: Span;
}

export type Statement =
  | ExpectCyclesStmt
  | ExpectErrnoStmt
  | ExpectBlockedStmt
  | ProbeStmt
  | CheckStmt
  | ShowStmt
  | CallStmt
  | LetStmt
  | LoadStmt
  | StoreStmt
  | MemsetStmt
  | MemcpyStmt
  | ExpectFaultStmt
  | ProcessStmt
  | ThreadStmt
  | AsStmt
  | MachineStmt
  | IncludeStmt;

// ---------------------------------------------------------------------------------------------
// Diagnostics

export interface Diagnostic {
  file: string;
  line: number;
  col: number;
  endCol: number;
  message: string;
  /** The offending line, for the caret display (kept so a shell line needs no file). */
  sourceLine: string;
}
