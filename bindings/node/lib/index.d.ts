// Types of the `toolgate` package (lib/index.js).

/** A JSON text (passed to C as is), its UTF-8 bytes, or a value serialized once with JSON.stringify. */
export type JsonInput = string | Uint8Array | object;

export interface DecisionError { rule: string | null; message: string | null }

export interface Decision {
  decision: 'allow' | 'deny';
  /** The deciding rule's id; null for the default, invalid requests and lifecycle messages. */
  rule: string | null;
  /** The rule's `because` text, or "invalid request: ...", or null. */
  reason: string | null;
  errors: DecisionError[];
  errorsTotal: number;
  /** The request or message was invalid (never allowed). */
  invalid: boolean;
  /** A deny rule decided because its condition was an error, not true (its error is listed). */
  byError: boolean;
  /** A lifecycle message (initialize, ping, notifications/...) the policy does not decide: forward it. */
  lifecycle: boolean;
  /** The audit line (tg_audit_format), when asked for with `audit: true`. */
  audit?: string;
}

export interface IdentityObject {
  principal: { id: string; roles?: string[]; [attribute: string]: unknown };
  token?: { scopes?: string[]; [claim: string]: unknown };
  context?: { [key: string]: unknown };
  server?: string;
}

/** An identity parsed once (tg_mcp_identity_parse). */
export class Identity {
  constructor(identity: IdentityObject | string);
}

/** Tool annotations as the server listed them (tg_mcp_tools). */
export class Tools {
  constructor();
  reset(): void;
}

export interface AuthorizeOptions {
  tools?: Tools;
  /** UTC seconds (or a Date) for context.time and the audit line; default now. */
  now?: number | Date;
  audit?: boolean;
}

export interface PolicyInfo {
  name: string;
  version: string | null;
  hash: string;
  sourceHash: string;
  rules: number;
  maxInstructions: number;
  defaultAllow: boolean;
}

declare abstract class Decider {
  /** Decides an MCP JSON-RPC message for an identity (tg_mcp_request_from_message, tg_eval). */
  authorize(message: JsonInput, identity: Identity | IdentityObject | string, opts?: AuthorizeOptions): Decision;
  /** Decides a request of DESIGN's request model (tg_eval_json). */
  evalJson(request: JsonInput, opts?: { now?: number | Date; audit?: boolean }): Decision;
  /** The audit line of authorize's decision. */
  audit(message: JsonInput, identity: Identity | IdentityObject | string, opts?: AuthorizeOptions): string;
  /** Filters a tools/list, resources/list or prompts/list response (tg_mcp_filter_list); a string
   * or bytes in gives a string out, an object gives an object. */
  filterList<T extends JsonInput>(method: 'tools/list' | 'resources/list' | 'prompts/list', response: T,
    identity: Identity | IdentityObject | string,
    opts?: { tools?: Tools; now?: number | Date; onRemoved?: (removed: number) => void }): T extends object ? any : string;
  /** The message with only the roots the identity may read everything under (a client's answer to
   * roots/list, or a retry's inputResponses; tg_mcp_check_roots), the same type as given, or null
   * when it gives no roots. Throws when its roots are not a list of roots. */
  checkRoots<T extends JsonInput>(message: T, identity: Identity | IdentityObject | string,
    opts?: { now?: number | Date }): (T extends object ? any : string) | null;
  readonly info: PolicyInfo;
}

/** Verified bytecode (tg_policy). */
export class Policy extends Decider {
  private constructor(handle: unknown);
  /** Loads and verifies bytecode, or the bytecode file at a path. */
  static load(source: Uint8Array | string): Policy;
  /** compile() then load(); throws a ToolgateError with `diagnostics` when the source has errors. */
  static compile(source: string | Uint8Array, opts?: CompileOptions): Policy;
}

/** Hot reload (tg_holder). */
export class Holder extends Decider {
  constructor(policy?: Policy | Uint8Array | string);
  swap(policy: Policy | Uint8Array | string | null): void;
  current(): Policy | null;
}

export interface CompileOptions { path?: string; lint?: boolean; strict?: boolean }

export interface Diagnostic {
  file: string;
  line: number;
  column: number;
  endLine: number;
  endColumn: number;
  severity: 'error' | 'warning';
  lintId: string | null;
  message: string;
  hint: string | null;
}

export interface Compilation {
  bytecode: Buffer | null;
  diagnostics: Diagnostic[];
  errors: number;
  warnings: number;
  /** The diagnostics as `toolgate check` prints them. */
  text: string;
}

export function compile(source: string | Uint8Array, opts?: CompileOptions): Compilation;

export class ToolgateError extends Error {
  /** The tg_status number. */
  status: number;
  /** The tg_status enumerator, e.g. "TG_EVERIFY". */
  code: string;
  reason: string;
  /** Load errors: byte offset in the bytecode, and the instruction (-1: not in code). */
  offset?: number;
  pc?: number;
  diagnostics?: Diagnostic[];
}

export function version(): string;

declare const _default: {
  Policy: typeof Policy; Holder: typeof Holder; Identity: typeof Identity; Tools: typeof Tools;
  ToolgateError: typeof ToolgateError; compile: typeof compile; version: typeof version;
};
export default _default;
