/*
 * compiler.h - libtoolgate-compiler: policy source to verified bytecode,
 * with diagnostics as data. For bindings, editors, CI and policy analysis;
 * servers that only load bytecode need libtoolgate alone.
 *
 *   tg_compilation *c;
 *   tg_compile(src, len, "policy.tg", TG_COMPILE_LINT, &c);
 *   for (size_t i = 0; i < tg_compilation_diagnostic_count(c); i++) {
 *           const tg_diagnostic *d = tg_compilation_diagnostic(c, i);
 *           printf("%s:%u:%u: %s\n", d->file, (unsigned)d->line,
 *                  (unsigned)d->column, d->message);
 *   }
 *   size_t n;
 *   const unsigned char *code = tg_compilation_bytecode(c, &n);   // NULL on errors
 *   tg_compilation_free(c);
 *
 * The same source compiles to byte-identical bytecode. Compilations are
 * independent: any number of threads may compile at once. The library never
 * prints.
 */
#ifndef TOOLGATE_COMPILER_H
#define TOOLGATE_COMPILER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "toolgate/toolgate.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Flags for tg_compile. */
#define TG_COMPILE_LINT   0x1u	/* also run the lints (docs/lints.md) */
#define TG_COMPILE_STRICT 0x2u	/* warnings count as errors: no bytecode */

typedef enum tg_diag_severity {
	TG_DIAG_ERROR = 0,
	TG_DIAG_WARNING = 1
} tg_diag_severity;

/*
 * One diagnostic. The library allocates it and owns every pointer in it;
 * later versions may add members at the end, so never allocate, copy or
 * embed one by value: read it through the pointer tg_compilation_diagnostic
 * returns.
 */
typedef struct tg_diagnostic {
	tg_diag_severity severity;
	const char *file;		/* the path given to tg_compile */
	uint32_t line, column;		/* where it starts, from 1; columns count bytes */
	uint32_t end_line, end_column;	/* where it ends (exclusive), from 1 */
	const char *lint_id;		/* a stable lint id ("unused-role"), or NULL */
	const char *message;		/* "unknown role 'enginer'" */
	const char *hint;		/* "did you mean 'engineer'?", or NULL */
} tg_diagnostic;

/* The outcome of one compilation: diagnostics, and bytecode when there
 * were no errors. */
typedef struct tg_compilation tg_compilation;

/*
 * Compiles src[0..len) (need not be NUL-terminated). `path` names the
 * source in diagnostics and in the names of rules without an id (its base
 * name); NULL means "<input>". Returns TG_OK with a new compilation in
 * *out, whatever the policy's errors (read them from the compilation);
 * TG_EINVAL for NULL out or src with len > 0; TG_ENOMEM. Release *out with
 * tg_compilation_free.
 */
TG_API tg_status tg_compile(const char *src, size_t len, const char *path, unsigned flags,
			    tg_compilation **out);

/* tg_compile on a file's contents; TG_EIO (and *out untouched) when it
 * cannot be read. A file past the source limit is a compilation with one
 * error. */
TG_API tg_status tg_compile_file(const char *path, unsigned flags, tg_compilation **out);

/* The bytecode, owned by the compilation, with its size in *len; NULL
 * (and *len 0) when the compilation had errors. */
TG_API const unsigned char *tg_compilation_bytecode(const tg_compilation *c, size_t *len);

/* Error and warning counts (warnings counted as errors under
 * TG_COMPILE_STRICT). */
TG_API size_t tg_compilation_error_count(const tg_compilation *c);
TG_API size_t tg_compilation_warning_count(const tg_compilation *c);

/* Diagnostics in source order; i from 0 to count-1. NULL when out of range. */
TG_API size_t tg_compilation_diagnostic_count(const tg_compilation *c);
TG_API const tg_diagnostic *tg_compilation_diagnostic(const tg_compilation *c, size_t i);

/*
 * The diagnostics as `toolgate check` prints them: FILE:LINE:COL, the
 * source line, a caret and underline, hints. Like snprintf: writes at most
 * len bytes including the NUL (when len > 0) and returns the length of the
 * whole text, excluding the NUL.
 */
TG_API size_t tg_compilation_render(const tg_compilation *c, char *buf, size_t len);

/* Frees a compilation and everything it owns. NULL is ignored. */
TG_API void tg_compilation_free(tg_compilation *c);

#ifdef __cplusplus
}
#endif

#endif
