/*
 * status.c - tg_strerror.
 */
#include "toolgate/toolgate.h"

const char *tg_strerror(tg_status status)
{
	switch (status) {
	case TG_OK: return "success";
	case TG_EINVAL: return "invalid argument";
	case TG_ENOMEM: return "out of memory";
	case TG_EIO: return "cannot read file";
	case TG_EBADMAGIC: return "not toolgate bytecode";
	case TG_EVERSION: return "unsupported bytecode version";
	case TG_ETRUNCATED: return "truncated bytecode";
	case TG_ECHECKSUM: return "bytecode checksum mismatch";
	case TG_EMALFORMED: return "malformed bytecode";
	case TG_EVERIFY: return "bytecode failed verification";
	case TG_ELIMIT: return "bytecode exceeds a runtime limit";
	case TG_EINVALID_REQUEST: return "invalid request";
	case TG_EINTERNAL: return "internal error";
	case TG_ENOSPC: return "buffer too small";
	case TG_EEMPTY: return "no policy installed";
	case TG_ENOENT: return "no such item";
	}
	return "unknown status";
}
