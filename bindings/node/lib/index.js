'use strict';
// toolgate for Node: classes over the N-API addon (src/addon.c). This file
// shapes arguments and results only; what a message or a request means is
// decided by libtoolgate-mcp and libtoolgate, exactly as for `toolgate eval`
// and `toolgate proxy`.

const path = require('node:path');

function loadAddon() {
  const root = path.join(__dirname, '..', 'build');
  let first;
  for (const dir of ['Release', 'Debug']) {
    try {
      return require(path.join(root, dir, 'toolgate.node'));
    } catch (e) {
      if (e.code !== 'MODULE_NOT_FOUND') throw e;
      first ??= e;
    }
  }
  throw first;
}
const native = loadAddon();

/** An error from the C libraries: `status` is the tg_status number, `code`
 * its enumerator name ("TG_EVERIFY"), `reason` the library's message; load
 * errors add `offset` and `pc`. */
class ToolgateError extends Error {
  constructor(message) {
    super(message);
    this.name = 'ToolgateError';
  }
}
native.setErrorClass(ToolgateError);

// Objects are serialized once; strings and bytes go to C as they are, so a
// caller holding the client's raw text has exactly those bytes decided.
const text = (v) => (typeof v === 'string' || v instanceof Uint8Array ? v : JSON.stringify(v));

function seconds(now) {
  if (now === undefined || now === null) return Math.floor(Date.now() / 1000);
  if (now instanceof Date) return Math.floor(now.getTime() / 1000);
  return now;
}

/** Who is calling, parsed once by tg_mcp_identity_parse: use one per
 * session or token rather than passing an object on every call. */
class Identity {
  constructor(identity) {
    this._h = native.identityParse(text(identity));
  }
}

const identityHandle = (id) => (id instanceof Identity ? id._h : text(id));

/** Tool annotations as the server listed them (tg_mcp_tools): filterList of
 * a tools/list records them, authorize of a tools/call reads them. */
class Tools {
  constructor() {
    this._h = native.toolsCreate();
  }
  /** Forget every tool (the server sent notifications/tools/list_changed). */
  reset() {
    native.toolsReset(this._h);
  }
}

const toolsHandle = (t) => (t ? t._h : null);

// What Policy and Holder share: every call names a handle, a policy or a
// holder whose current policy the addon acquires for that call only.
class Decider {
  authorize(message, identity, opts = {}) {
    return native.authorize(this._h, identityHandle(identity), toolsHandle(opts.tools),
      text(message), seconds(opts.now), !!opts.audit);
  }

  evalJson(request, opts = {}) {
    return native.evalJson(this._h, text(request), seconds(opts.now), !!opts.audit);
  }

  audit(message, identity, opts = {}) {
    return this.authorize(message, identity, { ...opts, audit: true }).audit;
  }

  filterList(method, response, identity, opts = {}) {
    const [filtered, removed] = native.filterList(this._h, identityHandle(identity),
      toolsHandle(opts.tools), method, text(response), seconds(opts.now));
    if (opts.onRemoved) opts.onRemoved(removed);
    return typeof response === 'string' || response instanceof Uint8Array ? filtered : JSON.parse(filtered);
  }

  /** The message with only the roots the identity may read everything
   * under (a client's answer to roots/list, or a retry's inputResponses):
   * the same type as given, or null when it gives no roots. Throws a
   * ToolgateError when its roots are not a list of roots. */
  checkRoots(message, identity, opts = {}) {
    const checked = native.checkRoots(this._h, identityHandle(identity), text(message),
      seconds(opts.now));
    if (checked === null) return null;
    return typeof message === 'string' || message instanceof Uint8Array ? checked : JSON.parse(checked);
  }

  get info() {
    return native.policyInfo(this._h);
  }
}

/** Verified policy bytecode (tg_policy). */
class Policy extends Decider {
  constructor(handle) {
    super();
    this._h = handle;
  }

  /** Loads and verifies bytecode: a Uint8Array, or a file path. */
  static load(source) {
    return new Policy(typeof source === 'string' ? native.policyLoadFile(source) : native.policyLoad(source));
  }

  /** Compiles source and loads the result; throws a ToolgateError
   * (TG_EINVAL) carrying `diagnostics` when it has errors. */
  static compile(source, opts = {}) {
    const c = compile(source, opts);
    if (!c.bytecode) {
      const e = new ToolgateError(`TG_EINVAL: policy has errors\n${c.text}`);
      Object.assign(e, { status: 1, code: 'TG_EINVAL', reason: 'policy has errors', diagnostics: c.diagnostics });
      throw e;
    }
    return Policy.load(c.bytecode);
  }
}

/** Hot reload (tg_holder): swap in a new policy while calls decide on the
 * current one; a call in progress keeps the policy it started with. */
class Holder extends Decider {
  constructor(policy) {
    super();
    this._h = native.holderCreate();
    if (policy) this.swap(policy);
  }

  /** Installs a Policy (or bytecode / a path, loaded first); null empties. */
  swap(policy) {
    if (policy !== null && !(policy instanceof Policy)) policy = Policy.load(policy);
    native.holderSwap(this._h, policy ? policy._h : null);
  }

  /** The current policy, kept alive as long as the returned object, or null. */
  current() {
    const h = native.holderCurrent(this._h);
    return h ? new Policy(h) : null;
  }
}

/** tg_compile: {bytecode: Buffer|null, diagnostics, errors, warnings, text}. */
function compile(source, opts = {}) {
  const flags = (opts.lint ? 1 : 0) | (opts.strict ? 2 : 0);
  return native.compile(source, opts.path ?? null, flags);
}

module.exports = {
  Policy,
  Holder,
  Identity,
  Tools,
  ToolgateError,
  compile,
  version: native.version,
};
