// Types of `toolgate/sdk` (lib/sdk.js): the MCP SDK guard.
import { Decision, Holder, Identity, IdentityObject, Policy, Tools } from './index';

export interface GuardOptions {
  policy: Policy | Holder;
  /** The caller's identity for a message: a value, or a function of the transport's extra
   * ({authInfo, requestInfo}) and the message. Default: identityFromAuthInfo(extra.authInfo).
   * null refuses the request. */
  identity?: Identity | IdentityObject | null | ((extra: { authInfo?: any; requestInfo?: any }, message: any) =>
    Identity | IdentityObject | null | undefined);
  /** The annotation cache (default: one per transport). */
  tools?: Tools;
  /** Called with every decision; with `audit: true` the decision carries its audit line. */
  onDecision?: (decision: Decision, message: any, extra: any) => void;
  audit?: boolean;
}

/** Any SDK transport (v1 @modelcontextprotocol/sdk, v2 @modelcontextprotocol/server). */
export interface TransportLike {
  start(): Promise<void>;
  send(message: any, options?: any): Promise<void>;
  close(): Promise<void>;
  onmessage?: (message: any, extra?: any) => void;
  onclose?: () => void;
  onerror?: (error: Error) => void;
  sessionId?: string;
  setProtocolVersion?: (version: string) => void;
}

export class GuardedTransport implements TransportLike {
  constructor(inner: TransportLike, opts: GuardOptions);
  start(): Promise<void>;
  send(message: any, options?: any): Promise<void>;
  close(): Promise<void>;
  onmessage?: (message: any, extra?: any) => void;
  onclose?: () => void;
  onerror?: (error: Error) => void;
  readonly sessionId?: string;
  setProtocolVersion(version: string): void;
}

export function guardTransport(transport: TransportLike, opts: GuardOptions): GuardedTransport;
/** Guards every transport the server (McpServer or Server) connects to from now on. */
export function guard<S extends { connect(transport: any): Promise<void> }>(server: S, opts: GuardOptions): S;
export function identityFromAuthInfo(authInfo: any): IdentityObject | null;
export { Identity };
