// The front half of the trace language: syntax tree, lexer, parser, diagnostics, file loaders.
export type * from './ast.js';
export { lex, parseNumberText, type Token, type TokenKind } from './lexer.js';
export {
  parseScript, parseLine, parseFile, parseMachineSetting, looksBinary, machineSettings, createParseContext,
  MACHINE_KEYS, ERRNO_NAMES, KEYWORDS,
  type ParseOptions, type ParseResult, type ParseContext, type FileLoader, type KnownCalls, type CallArity, type MachineKeySpec,
} from './parser.js';
export { formatDiagnostic, formatDiagnostics, formatAt, diagnosticAt, suggest, didYouMean, SourceMap } from './diagnostics.js';
export { nodeFileLoader, memoryLoader } from './loader.js';
export { machineLineOptions } from './machineLine.js';
export { evaluate, evaluateNumber, sameBits, formatValue, formatDouble, EvalError, type EvalEnv, type Value } from './evaluate.js';
