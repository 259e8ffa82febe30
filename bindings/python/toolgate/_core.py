"""Policies, decisions, identities, tool caches and holders over the C API.

Nothing here decides anything: every rule about requests, MCP methods,
annotations and visibility is the C libraries'. This module converts Python
values to the bytes the libraries read, and their answers to Python values.

Handle lifetime. Each C handle lives in a small `_Ref` object whose __del__
frees it. A method copies `self._ref` into a local before its C calls, so a
concurrent close() (which only drops the object's own reference) can never
free a handle another thread is using: the free happens when the last
in-flight call returns. That costs no lock per call.
"""
from __future__ import annotations

import ctypes
import enum
import json
import os
import threading
import time
from typing import Any, Literal, Mapping, NamedTuple, Optional, Tuple, Union

from . import _lib

_L = _lib.libs()
_R = _L.runtime
_M = _L.mcp

Text = Union[str, bytes, bytearray, memoryview]
Message = Union[Text, Mapping[str, Any]]
PathLike = Union[str, "os.PathLike[str]"]


class Status(enum.IntEnum):
    """tg_status, as numbered in toolgate.h (appended, never renumbered)."""

    OK = 0
    EINVAL = 1
    ENOMEM = 2
    EIO = 3
    EBADMAGIC = 4
    EVERSION = 5
    ETRUNCATED = 6
    ECHECKSUM = 7
    EMALFORMED = 8
    EVERIFY = 9
    ELIMIT = 10
    EINVALID_REQUEST = 11
    EINTERNAL = 12
    ENOSPC = 13
    EEMPTY = 14
    ENOENT = 15


def _s(b: Optional[bytes]) -> Optional[str]:
    return None if b is None else b.decode("utf-8", "replace")


def status_name(status: int) -> str:
    """"TG_EVERIFY" for 9; a later library's new codes get "TG_STATUS_<n>"."""
    try:
        return "TG_" + Status(status).name
    except ValueError:
        return f"TG_STATUS_{status}"


class ToolgateError(Exception):
    """A C call failed. `status` is the tg_status code, `status_name` its
    name, `reason` the library's message; `offset` and `pc` say where
    bytecode was rejected (pc -1 when not in code; both None elsewhere)."""

    def __init__(self, status: int, reason: Optional[str] = None,
                 offset: Optional[int] = None, pc: Optional[int] = None) -> None:
        self.status = status
        self.status_name = status_name(status)
        self.reason = reason if reason else _s(_R.tg_strerror(status)) or ""
        self.offset = offset
        self.pc = pc
        where = ""
        if offset is not None:
            where = f" (offset {offset}" + (f", pc {pc})" if pc is not None and pc >= 0 else ")")
        super().__init__(f"{self.reason}{where} [{self.status_name}]")


class InvalidRequestError(ToolgateError):
    """TG_EINVALID_REQUEST raised: an identity or a list response the
    library could not read. (Invalid requests and messages are not raised:
    they are decisions, denies with `invalid` set.)"""


def _raise(status: int, reason: Optional[str] = None) -> None:
    cls = InvalidRequestError if status == Status.EINVALID_REQUEST else ToolgateError
    raise cls(status, reason)


def _closed(what: str) -> ToolgateError:
    return ToolgateError(Status.EINVAL, f"the {what} is closed")


def _text(value: Union[Text, Mapping[str, Any], list]) -> bytes:
    """The bytes handed to the library. Text goes as is, so the library's
    reader sees exactly what the client sent (duplicate keys, invalid UTF-8
    and all); a dict is serialized once. Lone surrogates are kept as the
    invalid UTF-8 they stand for, which the library then refuses."""
    if isinstance(value, bytes):
        return value
    if isinstance(value, str):
        return value.encode("utf-8", "surrogatepass")
    if isinstance(value, (bytearray, memoryview)):
        return bytes(value)
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode(
        "utf-8", "surrogatepass")


def _now(now: Optional[int]) -> int:
    return int(time.time()) if now is None else int(now)


# ---- decisions ------------------------------------------------------------


class Decision(NamedTuple):
    """What the policy decided, copied out of the C decision (immutable; a
    NamedTuple rather than a dataclass because it is built on every
    decision and costs a quarter as much to make).

    decision: "allow" or "deny"; rule: the deciding rule's id (None for the
    default and for invalid requests); reason: the rule's `because` text or
    the "invalid request: ..." message; errors: (rule id, message) pairs of
    the evaluation errors the decision kept, errors_total how many there
    were; invalid: the request could not be read or was invalid (never
    allowed). lifecycle: the message is not one the policy decides
    (initialize, ping, notifications/...): the library returned no request,
    and `decision` is "allow" because toolgate's own proxy forwards these.
    audit: the audit line, when asked for. by_error: a deny rule decided
    because its condition was an error, not true (its error is listed).
    """

    decision: Literal["allow", "deny"]
    rule: Optional[str]
    reason: Optional[str]
    errors: Tuple[Tuple[Optional[str], str], ...] = ()
    errors_total: int = 0
    invalid: bool = False
    lifecycle: bool = False
    audit: Optional[str] = None
    by_error: bool = False

    @property
    def allowed(self) -> bool:
        return self.decision == "allow"


_LIFECYCLE = Decision("allow", None, None, lifecycle=True)

_WHY = 512
_AUDIT = 4096


class _Scratch:
    """One thread's reusable C decision and buffers: tg_decision is made to
    be created once per thread and evaluated into any number of times, so
    a decision costs no allocation in C."""

    __slots__ = ("d", "why", "buf", "rule", "msg", "__weakref__")

    def __init__(self) -> None:
        d = _lib.c_decision()
        st = _R.tg_decision_create(ctypes.byref(d))
        if st:
            _raise(st)
        self.d = d
        self.why = ctypes.create_string_buffer(_WHY)
        self.buf = ctypes.create_string_buffer(_AUDIT)
        self.rule = ctypes.c_char_p()
        self.msg = ctypes.c_char_p()

    def __del__(self) -> None:
        try:
            _R.tg_decision_free(self.d)
        except Exception:  # interpreter shutdown: the library may be gone
            pass


_tls = threading.local()


def _scratch() -> _Scratch:
    try:
        return _tls.s
    except AttributeError:
        s = _tls.s = _Scratch()
        return s


def _read(s: _Scratch, audit: Optional[str] = None) -> Decision:
    d = s.d
    n = _R.tg_decision_error_count(d)
    errors: Tuple[Tuple[Optional[str], str], ...] = ()
    if n:
        rule, msg, out = s.rule, s.msg, []
        for i in range(n):
            if _R.tg_decision_error(d, i, None, ctypes.byref(rule), ctypes.byref(msg)) == 0:
                out.append((_s(rule.value), _s(msg.value) or ""))
        errors = tuple(out)
    return Decision(
        "allow" if _R.tg_decision_effect(d) == 1 else "deny",
        _s(_R.tg_decision_rule_id(d)),
        _s(_R.tg_decision_reason(d)),
        errors,
        _R.tg_decision_error_total(d),
        bool(_R.tg_decision_invalid(d)),
        False,
        audit,
        bool(_R.tg_decision_by_error(d)),
    )


def _audit_line(s: _Scratch, p: int, req: Optional[int], now: int) -> str:
    need = _R.tg_audit_format(p, req, s.d, now, s.buf, _AUDIT)
    if need < _AUDIT:
        return s.buf.raw[:need].decode("utf-8", "replace")
    big = ctypes.create_string_buffer(need + 1)
    _R.tg_audit_format(p, req, s.d, now, big, need + 1)
    return big.raw[:need].decode("utf-8", "replace")


# ---- handles --------------------------------------------------------------


class _Ref:
    __slots__ = ("ptr", "free", "__weakref__")

    def __init__(self, ptr: int, free: Any) -> None:
        self.ptr = ptr
        self.free = free  # what drops it; None once handed over

    def __del__(self) -> None:
        f = self.free
        if f is not None and self.ptr:
            self.free = None
            try:
                f(self.ptr)
            except Exception:  # interpreter shutdown
                pass


class _HolderRelease:
    """tg_holder_release as a one-argument free for a _Ref."""

    __slots__ = ("href",)

    def __init__(self, href: _Ref) -> None:
        self.href = href  # keeps the holder alive until the release

    def __call__(self, p: int) -> None:
        _R.tg_holder_release(self.href.ptr, p)


class Identity:
    """Who is calling, parsed once by the library: {"principal": {"id": ...,
    "roles": [...], ...}, "token": {...}, "context": {...}, "server": "db"}.
    Reuse one per connection or session instead of passing a dict per call.
    Raises InvalidRequestError when the library cannot read it."""

    __slots__ = ("_ref",)

    def __init__(self, identity: Union[Text, Mapping[str, Any]]) -> None:
        text = _text(identity)
        h = _lib.c_identity()
        s = _scratch()
        st = _M.tg_mcp_identity_parse(text, len(text), ctypes.byref(h), s.why, _WHY)
        if st:
            _raise(st, _s(s.why.value) if st == Status.EINVALID_REQUEST else None)
        self._ref: Optional[_Ref] = _Ref(h.value, _M.tg_mcp_identity_free)

    def close(self) -> None:
        self._ref = None

    def __enter__(self) -> "Identity":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class _RWLock:
    """Many readers or one writer, writers first: tg_mcp_tools may be read by
    many threads at once but written only with no reader or writer about
    (mcp.h)."""

    def __init__(self) -> None:
        self._c = threading.Condition(threading.Lock())
        self._readers = 0
        self._writer = False
        self._waiting = 0

    def acquire_read(self) -> None:
        with self._c:
            while self._writer or self._waiting:
                self._c.wait()
            self._readers += 1

    def release_read(self) -> None:
        with self._c:
            self._readers -= 1
            if not self._readers:
                self._c.notify_all()

    def acquire_write(self) -> None:
        with self._c:
            self._waiting += 1
            while self._writer or self._readers:
                self._c.wait()
            self._waiting -= 1
            self._writer = True

    def release_write(self) -> None:
        with self._c:
            self._writer = False
            self._c.notify_all()


class Tools:
    """The tool annotations a server listed (tg_mcp_tools): filter_list of a
    tools/list result records them, authorize of a tools/call reads them. A
    tool never listed gets MCP's defaults, applied by the library. Safe to
    share between threads (writes wait for readers)."""

    __slots__ = ("_ref", "_lock")

    def __init__(self) -> None:
        h = _lib.c_tools()
        st = _M.tg_mcp_tools_create(ctypes.byref(h))
        if st:
            _raise(st)
        self._ref: Optional[_Ref] = _Ref(h.value, _M.tg_mcp_tools_free)
        self._lock = _RWLock()

    def reset(self) -> None:
        """Forget every tool, as notifications/tools/list_changed asks."""
        ref = self._ref
        if ref is None:
            raise _closed("tool cache")
        self._lock.acquire_write()
        try:
            _M.tg_mcp_tools_reset(ref.ptr)
        finally:
            self._lock.release_write()

    def close(self) -> None:
        self._ref = None

    def __enter__(self) -> "Tools":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _identity(identity: Union[Identity, Text, Mapping[str, Any]]) -> Tuple[_Ref, Optional[Identity]]:
    if isinstance(identity, Identity):
        ref = identity._ref
        if ref is None:
            raise _closed("identity")
        return ref, None
    tmp = Identity(identity)
    return tmp._ref, tmp  # type: ignore[return-value]


class Filtered(NamedTuple):
    """A list response filtered by the policy: the JSON text and how many
    entries were removed."""

    text: str
    removed: int

    def json(self) -> Any:
        return json.loads(self.text)


def _load(code: bytes) -> int:
    """tg_policy_load: a new policy with one reference, or ToolgateError."""
    p = _lib.c_policy()
    err = ctypes.POINTER(_lib.LoadError)()
    st = _R.tg_policy_load(code, len(code), ctypes.byref(p), ctypes.byref(err))
    if st:
        reason = offset = pc = None
        if err:
            e = err.contents
            reason, offset, pc = _s(e.reason), e.offset, e.pc
            _R.tg_load_error_free(err)
        raise ToolgateError(st, reason, offset, pc)
    return p.value


class Policy:
    """Verified policy bytecode (tg_policy). Immutable and safe to use from
    any number of threads at once. Use as a context manager, or close(), to
    release it early; a call in flight on another thread finishes first."""

    __slots__ = ("_ref", "_code", "__weakref__")

    def __init__(self, _ref: _Ref, _code: Optional[bytes]) -> None:
        # Not for direct use: Policy.load, Policy.from_source, Holder.current.
        self._ref: Optional[_Ref] = _ref
        self._code = _code  # the verified bytecode; None when acquired from a holder

    # -- loading

    @classmethod
    def load(cls, source: Union[bytes, bytearray, memoryview, PathLike]) -> "Policy":
        """Verify bytecode (bytes) or a bytecode file (str or path) and load
        it. Raises ToolgateError with the verifier's status, reason, offset
        and pc when it is rejected (TG_EIO when the file cannot be read)."""
        if isinstance(source, (bytes, bytearray, memoryview)):
            code = bytes(source)
        else:
            # Read here rather than by tg_policy_load_file (which reads the
            # same way) so that the Policy keeps its bytes: Holder.swap loads
            # its own copy from them.
            try:
                with open(source, "rb") as f:
                    code = f.read()
            except OSError as e:
                raise ToolgateError(Status.EIO, f"cannot open: {e.strerror}") from None
        return cls(_Ref(_load(code), _R.tg_policy_free), code)

    @classmethod
    def from_source(cls, source: Text, path: Optional[str] = None) -> "Policy":
        """Compile policy source and load the bytecode; CompileError with the
        diagnostics when it has errors."""
        from ._compile import CompileError, compile as _compile

        result = _compile(source, path=path)
        if result.bytecode is None:
            raise CompileError(result)
        return cls.load(result.bytecode)

    def _p(self) -> _Ref:
        ref = self._ref
        if ref is None:
            raise _closed("policy")
        return ref

    def close(self) -> None:
        self._ref = None

    @property
    def closed(self) -> bool:
        return self._ref is None

    def __enter__(self) -> "Policy":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- what was loaded

    @property
    def name(self) -> str:
        return _s(_R.tg_policy_name(self._p().ptr)) or ""

    @property
    def version(self) -> Optional[str]:
        return _s(_R.tg_policy_version(self._p().ptr))

    @property
    def hash(self) -> str:
        """SHA-256 of the bytecode, 64 hex digits."""
        return _s(_R.tg_policy_hash(self._p().ptr)) or ""

    @property
    def source_hash(self) -> str:
        return _s(_R.tg_policy_source_hash(self._p().ptr)) or ""

    @property
    def default_allow(self) -> bool:
        return bool(_R.tg_policy_default_allow(self._p().ptr))

    @property
    def rules(self) -> Tuple[Optional[str], ...]:
        """The rule ids, in source order."""
        ref = self._p()
        n = _R.tg_policy_rule_count(ref.ptr)
        return tuple(_s(_R.tg_policy_rule_id(ref.ptr, i)) for i in range(n))

    @property
    def max_instructions(self) -> int:
        """The worst-case instruction count of one decision."""
        return _R.tg_policy_max_instructions(self._p().ptr)

    def __repr__(self) -> str:
        if self._ref is None:
            return "<toolgate.Policy closed>"
        return f"<toolgate.Policy {self.name!r} version {self.version!r} {self.hash[:12]}>"

    # -- deciding

    def eval_json(self, request: Union[Text, Mapping[str, Any]], audit: bool = False,
                  now: Optional[int] = None) -> Decision:
        """Decide one request of toolgate's JSON request model (what
        `toolgate eval` reads). An unreadable or invalid request is a deny
        with `invalid` set, never an exception. audit=True also formats the
        audit line, stamped `now` (default: the current time)."""
        ref = self._p()
        text = _text(request)
        s = _scratch()
        if not audit:
            _M.tg_eval_json(ref.ptr, text, len(text), s.d)
            return _read(s)
        req = _lib.c_mcp_request()
        st = _M.tg_mcp_request_parse(ref.ptr, text, len(text), ctypes.byref(req), s.why, _WHY)
        if st == Status.EINVALID_REQUEST:
            _R.tg_decision_set_invalid(s.d, s.why.value)
            return _read(s, _audit_line(s, ref.ptr, None, _now(now)))
        if st:
            _raise(st)
        try:
            r = _M.tg_mcp_request_get(req)
            _R.tg_eval(ref.ptr, r, s.d)
            return _read(s, _audit_line(s, ref.ptr, r, _now(now)))
        finally:
            _M.tg_mcp_request_free(req)

    def authorize(self, message: Message, identity: Union[Identity, Text, Mapping[str, Any]],
                  tools: Optional[Tools] = None, now: Optional[int] = None,
                  audit: bool = False) -> Decision:
        """Decide a client's MCP JSON-RPC request for `identity`.

        message: the JSON-RPC request as received (str or bytes, passed to
        the library untouched) or a dict (serialized once). identity: an
        Identity, or what Identity() accepts. tools: the annotation cache a
        tools/call takes its tool's hints from. now: UTC seconds, the
        context.time the library sets unless the identity sets it (default:
        the current time). A message the library cannot turn into a request
        is a deny with `invalid` set; a lifecycle message comes back with
        `lifecycle` set. audit=True adds the audit line (None for lifecycle
        messages, which are not decided).
        """
        ref = self._p()
        idref, _tmp = _identity(identity)
        text = _text(message)
        t = _now(now)
        s = _scratch()
        req = _lib.c_mcp_request()
        if tools is not None:
            tref = tools._ref
            if tref is None:
                raise _closed("tool cache")
            tools._lock.acquire_read()
            try:
                st = _M.tg_mcp_request_from_message(ref.ptr, idref.ptr, tref.ptr, text, len(text),
                                                    t, ctypes.byref(req), s.why, _WHY)
            finally:
                tools._lock.release_read()
        else:
            st = _M.tg_mcp_request_from_message(ref.ptr, idref.ptr, None, text, len(text), t,
                                                ctypes.byref(req), s.why, _WHY)
        if st == Status.EINVALID_REQUEST:
            _R.tg_decision_set_invalid(s.d, s.why.value)
            return _read(s, _audit_line(s, ref.ptr, None, t) if audit else None)
        if st:
            _raise(st)
        if not req:
            return _LIFECYCLE
        try:
            r = _M.tg_mcp_request_get(req)
            _R.tg_eval(ref.ptr, r, s.d)
            return _read(s, _audit_line(s, ref.ptr, r, t) if audit else None)
        finally:
            _M.tg_mcp_request_free(req)

    def audit(self, message: Message, identity: Union[Identity, Text, Mapping[str, Any]],
              tools: Optional[Tools] = None, now: Optional[int] = None) -> Optional[str]:
        """The audit line of authorize(message, identity, ...): one JSON
        object (no newline), or None for a lifecycle message."""
        return self.authorize(message, identity, tools=tools, now=now, audit=True).audit

    def filter_list(self, method: str, response: Union[Text, Mapping[str, Any]],
                    identity: Union[Identity, Text, Mapping[str, Any]],
                    tools: Optional[Tools] = None, now: Optional[int] = None) -> Filtered:
        """Filter the JSON-RPC response to a tools/list, resources/list or
        prompts/list request down to what `identity` may see; a tools/list
        also records its tools' annotations in `tools`. Raises
        InvalidRequestError when the response holds no such list."""
        ref = self._p()
        idref, _tmp = _identity(identity)
        text = _text(response)
        out = ctypes.c_void_p()
        out_len = ctypes.c_size_t()
        removed = ctypes.c_size_t()
        args = (method.encode(), text, len(text), _now(now), ctypes.byref(out),
                ctypes.byref(out_len), ctypes.byref(removed))
        if tools is not None:
            tref = tools._ref
            if tref is None:
                raise _closed("tool cache")
            tools._lock.acquire_write()
            try:
                st = _M.tg_mcp_filter_list(ref.ptr, idref.ptr, tref.ptr, *args)
            finally:
                tools._lock.release_write()
        else:
            st = _M.tg_mcp_filter_list(ref.ptr, idref.ptr, None, *args)
        if st:
            _raise(st)
        try:
            body = ctypes.string_at(out.value, out_len.value).decode("utf-8", "replace")
        finally:
            _M.tg_mcp_free(out)
        return Filtered(body, removed.value)

    def check_roots(self, message: Union[Text, Mapping[str, Any]],
                    identity: Union[Identity, Text, Mapping[str, Any]],
                    now: Optional[int] = None) -> Optional[str]:
        """The message with only the roots `identity` may read everything
        under (a client's answer to roots/list, or a retry's
        inputResponses), as JSON text; None when it gives no roots. Raises
        InvalidRequestError when its roots are not a list of roots."""
        ref = self._p()
        idref, _tmp = _identity(identity)
        text = _text(message)
        out = ctypes.c_void_p()
        out_len = ctypes.c_size_t()
        st = _M.tg_mcp_check_roots(ref.ptr, idref.ptr, text, len(text), _now(now),
                                   ctypes.byref(out), ctypes.byref(out_len))
        if st:
            _raise(st)
        if not out.value:
            return None
        try:
            return ctypes.string_at(out.value, out_len.value).decode("utf-8", "replace")
        finally:
            _M.tg_mcp_free(out)


Source = Union[Policy, bytes, bytearray, memoryview, PathLike, None]


class _Current:
    """holder.current(): the policy acquired on entry, released on exit."""

    __slots__ = ("_holder", "_policy")

    def __init__(self, holder: "Holder") -> None:
        self._holder = holder
        self._policy: Optional[Policy] = None

    def __enter__(self) -> Policy:
        href = self._holder._h()
        p = _R.tg_holder_acquire(href.ptr)
        if not p:
            raise ToolgateError(Status.EEMPTY, "the holder holds no policy")
        self._policy = Policy(_Ref(p, _HolderRelease(href)), None)
        return self._policy

    def __exit__(self, *exc: object) -> None:
        if self._policy is not None:
            self._policy.close()  # releases, once no call is in flight
            self._policy = None


class Holder:
    """Hot reload (tg_holder): publishes the current policy. Requests use
    `with holder.current() as policy:` (acquire, decide, release); swap()
    installs a new policy, and the old one is freed by the library when its
    last user releases it."""

    __slots__ = ("_ref", "__weakref__")

    def __init__(self, policy: Source = None) -> None:
        h = _lib.c_holder()
        st = _R.tg_holder_create(ctypes.byref(h))
        if st:
            _raise(st)
        self._ref: Optional[_Ref] = _Ref(h.value, _R.tg_holder_free)
        if policy is not None:
            self.swap(policy)

    def _h(self) -> _Ref:
        ref = self._ref
        if ref is None:
            raise _closed("holder")
        return ref

    def swap(self, policy: Source) -> None:
        """Install `policy`: a Policy, bytecode, a bytecode file, or None to
        empty the holder. The holder gets its own copy, loaded from the
        Policy's bytes (the library has no way to add a reference to a
        policy, and tg_holder_swap takes one over), so the Policy object
        stays independent and usable. A policy acquired from a holder
        (holder.current()) has no bytes here and cannot be installed."""
        href = self._h()
        if policy is None:
            _R.tg_holder_swap(href.ptr, None)
            return
        if isinstance(policy, Policy):
            code = policy._code
            if code is None:
                raise ToolgateError(Status.EINVAL, "a policy acquired from a holder cannot be "
                                    "installed in one; load its bytecode again")
            _R.tg_holder_swap(href.ptr, _load(code))
        else:
            new = Policy.load(policy)
            # Hand the one reference over: `new` must not drop it.
            ref = new._ref
            assert ref is not None
            ref.free = None
            _R.tg_holder_swap(href.ptr, ref.ptr)

    def load(self, source: Union[bytes, bytearray, memoryview, PathLike]) -> None:
        """swap(Policy.load(source))."""
        self.swap(Policy.load(source))

    def current(self) -> _Current:
        """`with holder.current() as policy:` the policy at the time, held
        until the block ends even if another thread swaps meanwhile."""
        return _Current(self)

    def authorize(self, message: Message, identity: Union[Identity, Text, Mapping[str, Any]],
                  tools: Optional[Tools] = None, now: Optional[int] = None,
                  audit: bool = False) -> Decision:
        """Policy.authorize on the current policy."""
        with self.current() as p:
            return p.authorize(message, identity, tools=tools, now=now, audit=audit)

    def eval_json(self, request: Union[Text, Mapping[str, Any]], audit: bool = False,
                  now: Optional[int] = None) -> Decision:
        with self.current() as p:
            return p.eval_json(request, audit=audit, now=now)

    def filter_list(self, method: str, response: Union[Text, Mapping[str, Any]],
                    identity: Union[Identity, Text, Mapping[str, Any]],
                    tools: Optional[Tools] = None, now: Optional[int] = None) -> Filtered:
        with self.current() as p:
            return p.filter_list(method, response, identity, tools=tools, now=now)

    def check_roots(self, message: Union[Text, Mapping[str, Any]],
                    identity: Union[Identity, Text, Mapping[str, Any]],
                    now: Optional[int] = None) -> Optional[str]:
        with self.current() as p:
            return p.check_roots(message, identity, now=now)

    def close(self) -> None:
        """Drop the holder; policies acquired from it stay valid until
        released."""
        self._ref = None

    def __enter__(self) -> "Holder":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def version() -> str:
    """The version of the loaded libtoolgate."""
    return _s(_R.tg_version()) or ""
