/*
 * driver.h - what the toolgate programs share (the command, the stdio proxy,
 * the HTTP gateway): reading and compiling policy files with diagnostics
 * printed on stderr, loading bytecode through the verifier, messages, atomic
 * writes and exit statuses. The libraries never print; these helpers are
 * where the programs do.
 */
#ifndef TG_DRIVER_H
#define TG_DRIVER_H

#include <stdbool.h>
#include <stddef.h>

#include "toolgate/toolgate.h"

/* Process exit statuses (DESIGN "CLI contract"). */
#define TG_EXIT_OK    0
#define TG_EXIT_FAIL  1	/* the policy or a test is wrong */
#define TG_EXIT_USAGE 2	/* usage or I/O error, or an invalid request */

/* Prints "toolgate: MESSAGE\n" to stderr. */
void tg_drv_error(const char *fmt, ...)
#if defined(__GNUC__)
	__attribute__((format(printf, 1, 2)))
#endif
	;

/* ---- policy_file.c: reading policies ---------------------------------------- */

/* Bytecode is read whole before verification; anything larger than this
 * could not have come from the compiler. */
#define TG_DRV_MAX_BYTECODE (64u * 1024 * 1024)


/* Reads a policy source (at most TG_MAX_SOURCE_BYTES) the way every command
 * does: on failure prints why, stores TG_EXIT_FAIL (too large: the policy is
 * wrong) or TG_EXIT_USAGE (unreadable) in *rc and returns NULL. */
char *tg_drv_read_source(const char *path, size_t *len, int *rc);

/* Under --strict a warning is reported, and counted, as an error. */
struct tg_diags;
void tg_drv_promote_warnings(struct tg_diags *d);

/* True when path names bytecode (ends in ".tgb"); anything else is source. */
bool tg_drv_is_bytecode_path(const char *path);

/*
 * Compiles the policy source at `path` to bytecode: read, parse, check,
 * codegen. Diagnostics are printed to stderr. With `strict`, warnings count as
 * errors. On success stores a malloc'd buffer in *out (caller frees) and
 * returns TG_EXIT_OK; otherwise returns TG_EXIT_FAIL (the policy is wrong) or
 * TG_EXIT_USAGE (the file could not be read) and leaves *out untouched.
 */
int tg_drv_compile_file(const char *path, bool strict, unsigned char **out, size_t *out_len);

/*
 * Loads a policy for evaluation: a .tgb file is read and verified by the
 * runtime loader, anything else is compiled in memory first. Errors are
 * printed to stderr. On success stores the policy in *out (release it with
 * tg_policy_free) and returns TG_EXIT_OK; otherwise TG_EXIT_FAIL (bad source
 * or bytecode that fails verification) or TG_EXIT_USAGE (unreadable file).
 */
int tg_drv_load_policy(const char *path, tg_policy **out);

/*
 * Writes buf[0..len) to `path` atomically: a temporary file in the same
 * directory, fsync'd, then renamed over the target (over the existing
 * file a symbolic link names, the link kept). A path that is not a regular file
 * (/dev/stdout, /dev/null, a FIFO) is written as it is, never replaced.
 * `mode_from`, when not NULL, names an existing file whose permission bits
 * the new file takes. Returns 0, or -1 with a message printed.
 */
int tg_drv_write_atomic(const char *path, const void *buf, size_t len, const char *mode_from);

/* All of buf[0..len) to fd, a write interrupted by a signal retried: 0, or
 * -1 with errno set. */
int tg_drv_write_all(int fd, const void *buf, size_t len);

#endif
