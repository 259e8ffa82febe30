'use strict';
// Guarding an MCP server from @modelcontextprotocol/sdk (1.x) or
// @modelcontextprotocol/server (2.x) with a toolgate policy.
//
// The hook is the Transport: both SDK generations connect a Server (or
// McpServer) to an object with start/send/close and onmessage(message,
// extra), where extra.authInfo is what the HTTP transport's bearer-token
// check validated. Wrapping it sees every message before the Protocol
// dispatches it (methods without a handler included, nothing the server
// registers later can slip past) and every response before it leaves, and
// it needs no SDK internals and no import of the SDK. Decisions are the C
// library's (tg_mcp_request_from_message, tg_mcp_filter_list); this file
// routes messages by them.

const { Tools, Identity } = require('./index.js');

const DENIED = -32003; // the codes `toolgate proxy` answers with (docs/proxy.md)
const INVALID_PARAMS = -32602;
const UNAVAILABLE = -32004;
const LISTS = new Set(['tools/list', 'resources/list', 'prompts/list']);
const MAX_PAGES = 64;

/** The identity DESIGN's request model gets from the SDK's AuthInfo: the
 * subject from authInfo.extra.sub (else the client id), scopes, client_id
 * and exp. Supply `identity` to map claims differently. */
function identityFromAuthInfo(authInfo) {
  if (!authInfo) return null;
  const token = { scopes: authInfo.scopes ?? [] };
  if (typeof authInfo.clientId === 'string') token.client_id = authInfo.clientId;
  if (Number.isInteger(authInfo.expiresAt)) token.exp = authInfo.expiresAt;
  const sub = authInfo.extra && typeof authInfo.extra.sub === 'string' ? authInfo.extra.sub : authInfo.clientId;
  return { principal: { id: sub }, token };
}

// A deny the guard itself decides (no rule): what _refuse answers.
const guardDenial = (reason, invalid = false) => ({ decision: 'deny', rule: null, reason, invalid });

const isRequest = (m) => m && typeof m.method === 'string' && m.id !== undefined && m.id !== null;

class GuardedTransport {
  constructor(inner, opts) {
    if (!opts || !opts.policy) throw new TypeError('guard: options.policy (a Policy or a Holder) is required');
    this._inner = inner;
    this._policy = opts.policy;
    this._identity = opts.identity;
    this._tools = opts.tools ?? new Tools();
    this._onDecision = opts.onDecision;
    this._audit = !!opts.audit;
    this._lists = new Map(); // request id -> {method, identity}: responses to filter
    this._own = new Map(); // ids of the guard's own tools/list -> resolve
    this._seq = 0;
    this._listed = false; // the tools cache holds the server's listing
    this._busy = null; // messages wait here while the guard lists tools
    inner.onmessage = (m, extra) => this._receive(m, extra);
    inner.onclose = () => this.onclose?.();
    inner.onerror = (e) => this.onerror?.(e);
  }

  get sessionId() {
    return this._inner.sessionId;
  }
  get hasPerRequestStream() {
    return this._inner.hasPerRequestStream;
  }
  setProtocolVersion(v) {
    this._inner.setProtocolVersion?.(v);
  }
  start() {
    return this._inner.start();
  }
  close() {
    return this._inner.close();
  }

  async send(message, options) {
    if (message && message.id !== undefined && this._own.has(message.id)) {
      const resolve = this._own.get(message.id);
      this._own.delete(message.id);
      resolve(message);
      return; // the guard's own listing never reaches the client
    }
    if (message && message.id !== undefined && this._lists.has(message.id) && message.result) {
      const { method, identity } = this._lists.get(message.id);
      this._lists.delete(message.id);
      try {
        message = this._policy.filterList(method, message, identity, { tools: this._tools });
      } catch (e) {
        // A list result the library cannot read is not shown at all.
        message = { jsonrpc: '2.0', id: message.id, error: { code: -32003, message: `toolgate: ${e.reason ?? e.message}` } };
      }
      if (method === 'tools/list') this._listed = true;
    } else if (message && message.id !== undefined) {
      this._lists.delete(message.id);
    }
    if (message && message.method === 'notifications/tools/list_changed') {
      this._tools.reset();
      this._listed = false;
    }
    return this._inner.send(message, options);
  }

  _receive(m, extra) {
    if (this._busy) {
      const next = this._busy.then(() => this._handle(m, extra));
      this._busy = next;
      next.finally(() => { if (this._busy === next) this._busy = null; });
      return;
    }
    const r = this._handle(m, extra);
    if (r) {
      this._busy = r;
      r.finally(() => { if (this._busy === r) this._busy = null; });
    }
  }

  _identityOf(m, extra) {
    const id = typeof this._identity === 'function' ? this._identity(extra ?? {}, m)
      : this._identity !== undefined ? this._identity : identityFromAuthInfo(extra?.authInfo);
    return id ?? null;
  }

  // Returns a promise only when a tools/call must wait for the guard's own
  // listing (so that it is judged with the annotations the server lists).
  _handle(m, extra) {
    if (!m || typeof m.method !== 'string') return this._answer(m, extra); // responses
    let identity;
    try {
      identity = this._identityOf(m, extra);
    } catch (e) {
      return this._refuse(m, guardDenial(`identity: ${e.message}`));
    }
    if (identity === null) {
      if (!isRequest(m)) return this.onmessage?.(m, extra);
      return this._refuse(m, guardDenial('no identity for this request'));
    }
    if (m.method === 'tools/call' && !this._listed) {
      return this._listTools(identity, extra).then(() => this._decide(m, extra, identity), (e) => {
        this.onerror?.(e);
        return this._decide(m, extra, identity);
      });
    }
    return this._decide(m, extra, identity);
  }

  // A decision that cannot be made, or that onDecision (the audit hook)
  // cannot record, is a refusal: never a pass, and never a request left
  // without an answer.
  _decide(m, extra, identity) {
    let result;
    try {
      result = this._policy.authorize(m, identity, { tools: this._tools, audit: this._audit });
    } catch (e) {
      return this._refuse(m, guardDenial(`the decision could not be made: ${e.reason ?? e.message}`));
    }
    try {
      this._onDecision?.(result, m, extra);
    } catch (e) {
      return this._refuse(m, guardDenial(`the decision could not be recorded: ${e.message}`));
    }
    if (result.decision !== 'allow') return this._refuse(m, result);
    if (isRequest(m) && LISTS.has(m.method)) this._lists.set(m.id, { method: m.method, identity });
    if (m.params?.inputResponses !== undefined) {
      // a 2026-07-28 retry: the roots answered inside it, as the identity may have them
      try {
        m = this._policy.checkRoots(m, identity) ?? m;
      } catch (e) {
        return this._refuse(m, guardDenial(`the roots answered cannot be checked: ${e.reason ?? e.message}`, true));
      }
    }
    this.onmessage?.(m, extra);
  }

  // A client's answer. One to the server's roots/list (by its shape: a
  // result with roots) gives the server only the roots the identity may
  // read everything under, as `toolgate proxy` does; roots that cannot be
  // checked reach the server as an error instead.
  _answer(m, extra) {
    if (!m || m.result === null || typeof m.result !== 'object' || m.result.roots === undefined) {
      return this.onmessage?.(m, extra);
    }
    let checked = null;
    try {
      const identity = this._identityOf(m, extra);
      if (identity !== null) checked = this._policy.checkRoots(m, identity);
    } catch (e) {
      this.onerror?.(e);
    }
    if (checked === null) {
      checked = { jsonrpc: '2.0', id: m.id, error: { code: UNAVAILABLE, message: "toolgate: the client's roots could not be checked" } };
    }
    return this.onmessage?.(checked, extra);
  }

  _refuse(m, result) {
    if (!isRequest(m)) return undefined; // nobody to tell: dropped, as the proxy does
    const error = {
      code: result.invalid ? INVALID_PARAMS : DENIED,
      message: result.reason ? `toolgate: ${result.reason}` : 'toolgate: denied by policy',
      data: { rule: result.rule, reason: result.reason },
    };
    if (result.byError) error.data.by_error = true; // as toolgate's proxy says it
    this._inner.send({ jsonrpc: '2.0', id: m.id, error }, { relatedRequestId: m.id })
      .catch((e) => this.onerror?.(e));
    return undefined;
  }

  // The server's own tools/list, delivered to it as if a client asked and
  // consumed here, so that tg_mcp_filter_list records its annotations.
  async _listTools(identity, extra) {
    let cursor;
    for (let page = 0; page < MAX_PAGES; page++) {
      const id = `toolgate-guard-${++this._seq}`;
      const reply = new Promise((resolve, reject) => {
        this._own.set(id, resolve);
        setTimeout(() => {
          if (this._own.delete(id)) reject(new Error('toolgate: the server did not answer its tools/list'));
        }, 10000).unref();
      });
      this.onmessage?.({ jsonrpc: '2.0', id, method: 'tools/list', params: cursor ? { cursor } : {} }, extra);
      const res = await reply;
      if (!res.result) break;
      this._policy.filterList('tools/list', res, identity, { tools: this._tools });
      cursor = res.result.nextCursor;
      if (!cursor) break;
    }
    this._listed = true;
  }
}

/** Wraps a transport: connect the server to the result. */
function guardTransport(transport, opts) {
  return new GuardedTransport(transport, opts);
}

/** Guards every transport a server (McpServer or Server) connects to from
 * now on; returns the server. */
function guard(server, opts) {
  const connect = server.connect.bind(server);
  server.connect = (transport) => connect(guardTransport(transport, opts));
  return server;
}

module.exports = { guard, guardTransport, identityFromAuthInfo, GuardedTransport, Identity };
