/*
 * policy_file.c - what every program needs to get from a file name to a policy:
 * reading files, running the compiler stages with diagnostics printed once
 * at the end, loading bytecode through the runtime's verifier, and writing
 * outputs atomically so an interrupted command never leaves half a file.
 */
#define _XOPEN_SOURCE 700	/* realpath */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "driver.h"
#include "stages.h"
#include "toolgate/compiler.h"
#include "toolgate/toolgate.h"

void tg_drv_error(const char *fmt, ...)
{
	va_list ap;

	fputs("toolgate: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

bool tg_drv_is_bytecode_path(const char *path)
{
	size_t n = strlen(path);

	return n >= 4 && strcmp(path + n - 4, ".tgb") == 0;
}

void tg_drv_promote_warnings(tg_diags *d)
{
	size_t i;

	for (i = 0; i < d->n; i++) {
		if (d->items[i].severity == TG_SEV_WARNING) {
			d->items[i].severity = TG_SEV_ERROR;
			d->nwarnings--;
			d->nerrors++;
		}
	}
}

char *tg_drv_read_source(const char *path, size_t *len, int *rc)
{
	char *src = tg_read_file(path, TG_MAX_SOURCE_BYTES, len);

	if (src)
		return src;
	if (errno == EFBIG) {
		/* Shaped like a diagnostic: the file is the problem. */
		fprintf(stderr, "%s: error: policy source is larger than %u bytes\n", path,
			TG_MAX_SOURCE_BYTES);
		*rc = TG_EXIT_FAIL;
	} else {
		tg_drv_error("cannot read '%s': %s", path, strerror(errno));
		*rc = TG_EXIT_USAGE;
	}
	return NULL;
}

/*
 * compile and eval of a source file go through the compiler library's
 * public entry point, as any embedder does (check has its own pipeline,
 * which adds the machine-readable formats).
 */
int tg_drv_compile_file(const char *path, bool strict, unsigned char **out, size_t *out_len)
{
	tg_compilation *c;
	const unsigned char *code;
	size_t len, need;
	char *src, *text;
	int rc = TG_EXIT_FAIL;

	src = tg_drv_read_source(path, &len, &rc);
	if (!src)
		return rc;
	if (tg_compile(src, len, path, strict ? TG_COMPILE_STRICT : 0, &c) != TG_OK) {
		tg_drv_error("%s: out of memory", path);
		free(src);
		return TG_EXIT_FAIL;
	}
	free(src);
	need = tg_compilation_render(c, NULL, 0);
	text = malloc(need + 1);
	if (text) {
		tg_compilation_render(c, text, need + 1);
		fputs(text, stderr);
		free(text);
	}
	code = tg_compilation_bytecode(c, &len);
	if (code) {
		*out = malloc(len);
		if (*out) {
			memcpy(*out, code, len);
			*out_len = len;
			rc = TG_EXIT_OK;
		} else {
			tg_drv_error("%s: out of memory", path);
		}
	}
	tg_compilation_free(c);
	return rc;
}

/* The verifier's verdict, with where and why, for a human. */
static int load_bytecode(const char *path, const unsigned char *code, size_t len,
			 tg_policy **out)
{
	tg_load_error *err;
	tg_status st;

	st = tg_policy_load(code, len, out, &err);
	if (st == TG_OK)
		return TG_EXIT_OK;
	if (st == TG_ENOMEM || !err) {
		tg_load_error_free(err);
		tg_drv_error("%s: out of memory", path);
		return TG_EXIT_USAGE;
	}
	fprintf(stderr, "%s: error: bytecode rejected: %s at offset %lu", path, tg_strerror(st),
		(unsigned long)err->offset);
	if (err->pc >= 0)
		fprintf(stderr, ", pc %lld", (long long)err->pc);
	if (err->reason[0] != '\0')
		fprintf(stderr, ": %s", err->reason);
	fputc('\n', stderr);
	tg_load_error_free(err);
	return TG_EXIT_FAIL;
}

int tg_drv_load_policy(const char *path, tg_policy **out)
{
	unsigned char *code;
	size_t len;
	int rc;

	if (tg_drv_is_bytecode_path(path)) {
		code = (unsigned char *)tg_read_file(path, TG_DRV_MAX_BYTECODE, &len);
		if (!code) {
			if (errno == EFBIG) {
				tg_drv_error("%s: bytecode is larger than %u bytes", path,
					     TG_DRV_MAX_BYTECODE);
				return TG_EXIT_FAIL;
			}
			tg_drv_error("cannot read '%s': %s", path, strerror(errno));
			return TG_EXIT_USAGE;
		}
	} else {
		rc = tg_drv_compile_file(path, false, &code, &len);
		if (rc != TG_EXIT_OK)
			return rc;
	}
	rc = load_bytecode(path, code, len, out);
	free(code);
	return rc;
}

int tg_drv_write_all(int fd, const void *buf, size_t len)
{
	const unsigned char *p = buf;

	while (len > 0) {
		ssize_t w = write(fd, p, len);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			if (w == 0)
				errno = EIO;
			return -1;
		}
		p += w;
		len -= (size_t)w;
	}
	return 0;
}

/* A target that is not a regular file (/dev/stdout, /dev/null, a FIFO) is
 * written as it is: a rename over it would replace the device itself. */
static int write_in_place(const char *path, const void *buf, size_t len)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC), err;

	if (fd >= 0 && tg_drv_write_all(fd, buf, len) != 0) {
		err = errno;
		close(fd);
		errno = err;
	} else if (fd >= 0 && close(fd) == 0) {
		return 0;
	}
	tg_drv_error("cannot write '%s': %s", path, strerror(errno));
	return -1;
}

int tg_drv_write_atomic(const char *path, const void *buf, size_t len, const char *mode_from)
{
	const char *target = path, *slash;
	char *real = NULL, *tmp;
	size_t dirlen;
	struct stat st;
	mode_t mask;
	int fd;

	if (stat(path, &st) == 0 && !S_ISREG(st.st_mode))
		return write_in_place(path, buf, len);
	/* Through a symbolic link the file it names is replaced, and the link
	 * stays. */
	if (lstat(path, &st) == 0 && S_ISLNK(st.st_mode) && (real = realpath(path, NULL)))
		target = real;
	slash = strrchr(target, '/');
	dirlen = slash ? (size_t)(slash - target) + 1 : 0;
	tmp = malloc(strlen(target) + sizeof ".XXXXXX" + 1);
	if (!tmp) {
		tg_drv_error("%s: out of memory", path);
		free(real);
		return -1;
	}
	/* dir/.base.XXXXXX: same directory, so rename(2) is atomic. */
	memcpy(tmp, target, dirlen);
	sprintf(tmp + dirlen, ".%s.XXXXXX", target + dirlen);
	fd = mkstemp(tmp);
	if (fd < 0) {
		tg_drv_error("cannot create a temporary file beside '%s': %s", path,
			     strerror(errno));
		free(tmp);
		free(real);
		return -1;
	}
	if (mode_from && stat(mode_from, &st) == 0) {
		(void)fchmod(fd, st.st_mode & 07777);
	} else {
		mask = umask(0);
		umask(mask);
		(void)fchmod(fd, 0666 & ~mask);
	}
	if (tg_drv_write_all(fd, buf, len) != 0 || fsync(fd) != 0)
		goto fail;
	if (close(fd) != 0) {
		fd = -1;
		goto fail;
	}
	fd = -1;
	if (rename(tmp, target) != 0)
		goto fail;
	free(tmp);
	free(real);
	return 0;
fail:
	tg_drv_error("cannot write '%s': %s", path, strerror(errno));
	if (fd >= 0)
		close(fd);
	unlink(tmp);
	free(tmp);
	free(real);
	return -1;
}
