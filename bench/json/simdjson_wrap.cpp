// simdjson_wrap.cpp - a tiny C face over simdjson (DOM and On-Demand) for
// json_parsers.c. Error codes throughout, no exceptions. See probe.h.
#include <cstring>
#include <string_view>

#include <simdjson.h>

#include "probe.h"

using namespace simdjson;

static_assert(SJ_PADDING >= SIMDJSON_PADDING, "SJ_PADDING too small");

extern "C" {

void *sj_dom_new(void) { return new (std::nothrow) dom::parser(); }
void sj_dom_free(void *p) { delete static_cast<dom::parser *>(p); }

// The caller's buffer already has SIMDJSON_PADDING spare bytes: no copy.
int sj_dom_parse(void *p, const char *buf, size_t len)
{
	dom::element root;
	return static_cast<dom::parser *>(p)->parse(buf, len, false).get(root) == SUCCESS;
}

// The documented easy path: copy the text into a padded_string first.
int sj_dom_parse_copy(void *p, const char *buf, size_t len)
{
	padded_string text(buf, len);
	dom::element root;
	return static_cast<dom::parser *>(p)->parse(text).get(root) == SUCCESS;
}

void *sj_od_new(void) { return new (std::nothrow) ondemand::parser(); }
void sj_od_free(void *p) { delete static_cast<ondemand::parser *>(p); }

const char *sj_active_impl(void) { return get_active_implementation()->name().c_str(); }

} // extern "C"

// ---- On-Demand: touch every value ------------------------------------------
// Keys are unescaped, strings unescaped, numbers parsed, so everything the
// document holds is validated, as a consumer of a whole request would.

static error_code walk(ondemand::value &v);

static error_code walk_object(ondemand::object obj)
{
	for (auto fr : obj) {
		ondemand::field f;
		std::string_view k;
		error_code e;
		if ((e = std::move(fr).get(f)) || (e = f.unescaped_key().get(k)) || (e = walk(f.value())))
			return e;
	}
	return SUCCESS;
}

static error_code walk_array(ondemand::array arr)
{
	for (auto vr : arr) {
		ondemand::value el;
		error_code e;
		if ((e = std::move(vr).get(el)) || (e = walk(el)))
			return e;
	}
	return SUCCESS;
}

template <typename V> static error_code walk_scalar(V &v, ondemand::json_type t)
{
	switch (t) {
	case ondemand::json_type::number: {
		ondemand::number n;
		return v.get_number().get(n);
	}
	case ondemand::json_type::string: {
		std::string_view s;
		return v.get_string().get(s);
	}
	case ondemand::json_type::boolean: {
		bool b;
		return v.get_bool().get(b);
	}
	case ondemand::json_type::null: {
		bool n;
		error_code e = v.is_null().get(n);
		return e ? e : (n ? SUCCESS : INCORRECT_TYPE);
	}
	default:
		return INCORRECT_TYPE;
	}
}

static error_code walk(ondemand::value &v)
{
	ondemand::json_type t;
	error_code e = v.type().get(t);
	if (e)
		return e;
	if (t == ondemand::json_type::object) {
		ondemand::object o;
		return (e = v.get_object().get(o)) ? e : walk_object(o);
	}
	if (t == ondemand::json_type::array) {
		ondemand::array a;
		return (e = v.get_array().get(a)) ? e : walk_array(a);
	}
	return walk_scalar(v, t);
}

// After the top value, 3.0 has no document::at_end(); current_location()
// answers OUT_OF_BOUNDS exactly when every token was consumed.
static bool doc_at_end(ondemand::document &doc, const char **where)
{
	const char *loc;
	if (doc.current_location().get(loc))
		return true;
	if (where)
		*where = loc;
	return false;
}

static error_code walk_doc(ondemand::document &doc)
{
	ondemand::json_type t;
	error_code e = doc.type().get(t);
	if (e)
		return e;
	if (t == ondemand::json_type::object) {
		ondemand::object o;
		e = (e = doc.get_object().get(o)) ? e : walk_object(o);
	} else if (t == ondemand::json_type::array) {
		ondemand::array a;
		e = (e = doc.get_array().get(a)) ? e : walk_array(a);
	} else {
		e = walk_scalar(doc, t);
	}
	return e;
}

extern "C" int sj_od_walk(void *p, const char *buf, size_t len, size_t cap)
{
	ondemand::document doc;
	if (static_cast<ondemand::parser *>(p)->iterate(buf, len, cap).get(doc))
		return 0;
	return walk_doc(doc) == SUCCESS && doc_at_end(doc, nullptr);
}

// ---- probes for the strictness table ----------------------------------------

static void put_string(struct pv *out, std::string_view s)
{
	out->kind = PV_STR;
	out->slen = s.size();
	memcpy(out->s, s.data(), s.size() < sizeof out->s ? s.size() : sizeof out->s);
}

static void set_err(char *err, size_t errlen, error_code e, const char *what = nullptr)
{
	snprintf(err, errlen, "%s", what ? what : error_message(e));
}

static void dom_value(dom::element el, struct pv *out)
{
	switch (el.type()) {
	case dom::element_type::OBJECT: out->kind = PV_OBJ; break;
	case dom::element_type::ARRAY: out->kind = PV_ARR; out->i = (int64_t)dom::array(el).size(); break;
	case dom::element_type::STRING: put_string(out, el.get_string().value_unsafe()); break;
	case dom::element_type::INT64: out->kind = PV_INT; out->i = el.get_int64().value_unsafe(); break;
	case dom::element_type::UINT64: out->kind = PV_UINT; out->u = el.get_uint64().value_unsafe(); break;
	case dom::element_type::DOUBLE: out->kind = PV_REAL; out->d = el.get_double().value_unsafe(); break;
	case dom::element_type::BOOL: out->kind = PV_BOOL; out->i = el.get_bool().value_unsafe(); break;
	case dom::element_type::NULL_VALUE: out->kind = PV_NULL; break;
	}
}

extern "C" int sj_dom_probe(const char *buf, size_t len, const char *const *path, int npath,
			    struct pv *out, char *err, size_t errlen)
{
	dom::parser parser;
	dom::element el;
	error_code e = parser.parse(buf, len, true).get(el);
	if (e) {
		set_err(err, errlen, e);
		return 0;
	}
	out->dups = 1;
	for (int i = 0; i < npath; i++) {
		dom::object obj;
		if (el.get_object().get(obj)) {
			out->kind = PV_NONE;
			return 1;
		}
		int n = 0;
		for (auto kv : obj)
			n += kv.key == path[i];
		// at_key() is what a lookup returns (with duplicates: the first).
		if (n == 0 || obj.at_key(path[i]).get(el)) {
			out->kind = PV_NONE;
			return 1;
		}
		if (i == npath - 1)
			out->dups = n;
	}
	dom_value(el, out);
	return 1;
}

template <typename V> static error_code od_value(V &v, struct pv *out)
{
	ondemand::json_type t;
	error_code e = v.type().get(t);
	if (e)
		return e;
	switch (t) {
	case ondemand::json_type::object: out->kind = PV_OBJ; return SUCCESS;
	case ondemand::json_type::array: {
		ondemand::array a;
		size_t n;
		if ((e = v.get_array().get(a)) || (e = a.count_elements().get(n)))
			return e;
		out->kind = PV_ARR;
		out->i = (int64_t)n;
		return SUCCESS;
	}
	case ondemand::json_type::string: {
		std::string_view s;
		if ((e = v.get_string().get(s)))
			return e;
		put_string(out, s);
		return SUCCESS;
	}
	case ondemand::json_type::number: {
		ondemand::number n;
		if ((e = v.get_number().get(n)))
			return e;
		if (n.is_int64()) {
			out->kind = PV_INT;
			out->i = n.get_int64();
		} else if (n.is_uint64()) {
			out->kind = PV_UINT;
			out->u = n.get_uint64();
		} else {
			out->kind = PV_REAL;
			out->d = n.get_double();
		}
		return SUCCESS;
	}
	case ondemand::json_type::boolean: {
		bool b;
		if ((e = v.get_bool().get(b)))
			return e;
		out->kind = PV_BOOL;
		out->i = b;
		return SUCCESS;
	}
	case ondemand::json_type::null: out->kind = PV_NULL; return SUCCESS;
	}
	return INCORRECT_TYPE;
}

// Walk everything (so the verdict is iterate-all's), then rewind and look
// the path up, taking the first member with each key, counting duplicates
// of the last one.
extern "C" int sj_od_probe(const char *buf, size_t len, size_t cap, const char *const *path,
			   int npath, struct pv *out, char *err, size_t errlen)
{
	ondemand::parser parser;
	ondemand::document doc;
	error_code e = parser.iterate(buf, len, cap).get(doc);
	if (!e)
		e = walk_doc(doc);
	if (e) {
		set_err(err, errlen, e);
		return 0;
	}
	const char *where = nullptr;
	if (!doc_at_end(doc, &where)) {
		out->trailing = 1;
		out->end = (size_t)(where - buf);
	}
	doc.rewind();
	out->dups = 1;
	if (npath == 0)
		return od_value(doc, out) == SUCCESS ? 1 : (set_err(err, errlen, e, "rewind"), 0);
	ondemand::object obj;
	if ((e = doc.get_object().get(obj))) {
		out->kind = PV_NONE;
		return 1;
	}
	for (int i = 0; i < npath; i++) {
		int n = 0;
		bool descended = false;
		for (auto fr : obj) {
			ondemand::field f;
			std::string_view k;
			if (std::move(fr).get(f) || f.unescaped_key().get(k))
				break;
			if (k != path[i])
				continue;
			if (n++ > 0)
				continue;
			if (i == npath - 1) {
				od_value(f.value(), out);
			} else {
				if (f.value().get_object().get(obj)) {
					out->kind = PV_NONE;
					return 1;
				}
				descended = true;
				break;
			}
		}
		if (n == 0) {
			out->kind = PV_NONE;
			return 1;
		}
		if (i == npath - 1)
			out->dups = n;
		else if (!descended)
			return 1;
	}
	return 1;
}
