/*
 * tls.c - the HTTPS certificate and key, replaceable while the gateway
 * serves.
 *
 * GnuTLS asks for the certificate at each handshake (libmicrohttpd's
 * MHD_OPTION_HTTPS_CERT_CALLBACK); the answer is the pair most recently
 * read that GnuTLS accepted. A rotation writes the files, the gateway sees
 * them change and reads them again: a pair GnuTLS refuses (a certificate
 * and a key that do not belong together, as between the two writes of a
 * rotation) is reported and the current pair keeps serving.
 *
 * GnuTLS does not copy what the callback returns, and a session keeps
 * using the pair it was given, so a replaced pair stays in memory until
 * the gateway stops (a few kilobytes a rotation; rewriting the same bytes
 * replaces nothing). The callback has no context pointer: one pair serves
 * per process, the gateway's single HTTPS server.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <gnutls/abstract.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <microhttpd.h>

#include "gateway.h"
#include "stages.h"	/* tg_read_file */

#define MAX_PEM_BYTES (1u << 20)

typedef struct pair {
	gnutls_pcert_st *certs;		/* the chain, leaf first */
	unsigned ncerts;
	gnutls_privkey_t key;
	char *cert_pem, *key_pem;	/* as read, to see a rewrite of the same bytes */
	size_t cert_len, key_len;
	struct pair *older;
} pair;

struct tg_gw_tls {
	/* the files the configuration names, which serve once they make a
	 * pair (until then the current pair goes on), and their stamps */
	const char *cert_file, *key_file;
	tg_gw_file_stamp cert_seen, key_seen;
	pair *current;			/* read by the callback (atomic) */
};

static tg_gw_tls *serving;	/* the one the callback answers for (atomic) */

/* Key bytes are wiped before their memory goes back. */
static void free_secret(char *s, size_t len)
{
	tg_gw_wipe(s, len);
	free(s);
}

static void pair_free(pair *p)
{
	if (!p)
		return;
	for (unsigned i = 0; i < p->ncerts; i++)
		gnutls_pcert_deinit(&p->certs[i]);
	free(p->certs);
	gnutls_privkey_deinit(p->key);
	free(p->cert_pem);
	free_secret(p->key_pem, p->key_len);
	free(p);
}

/* The pair in cert_pem and key_pem (taken), or NULL with GnuTLS's reason
 * in err. GnuTLS's own credentials check that the key is the
 * certificate's; the chain and key are then taken out of them in the
 * form the callback returns. */
static pair *pair_read(char *cert_pem, size_t cert_len, char *key_pem, size_t key_len,
		       char *err, size_t errlen)
{
	gnutls_certificate_credentials_t cred = NULL;
	gnutls_x509_crt_t *crts = NULL;
	gnutls_x509_privkey_t xkey = NULL;
	unsigned n = 0;
	pair *p = calloc(1, sizeof *p);
	gnutls_datum_t c = {(unsigned char *)cert_pem, (unsigned)cert_len};
	gnutls_datum_t k = {(unsigned char *)key_pem, (unsigned)key_len};
	int rc = p ? gnutls_certificate_allocate_credentials(&cred) : GNUTLS_E_MEMORY_ERROR;

	if (p) {
		p->cert_pem = cert_pem;
		p->cert_len = cert_len;
		p->key_pem = key_pem;
		p->key_len = key_len;
	}
	if (rc >= 0)
		rc = gnutls_certificate_set_x509_key_mem(cred, &c, &k, GNUTLS_X509_FMT_PEM);
	if (rc >= 0)
		rc = gnutls_certificate_get_x509_crt(cred, 0, &crts, &n);
	if (rc >= 0)
		rc = gnutls_certificate_get_x509_key(cred, 0, &xkey);
	if (rc >= 0 && !(p->certs = calloc(n, sizeof *p->certs)))
		rc = GNUTLS_E_MEMORY_ERROR;
	if (rc >= 0) {
		p->ncerts = n;
		rc = gnutls_pcert_import_x509_list(p->certs, crts, &p->ncerts, 0);
		if (rc < 0)
			p->ncerts = 0;	/* nothing imported is left to free */
	}
	if (rc >= 0)
		rc = gnutls_privkey_init(&p->key);
	if (rc >= 0) {
		rc = gnutls_privkey_import_x509(p->key, xkey, GNUTLS_PRIVKEY_IMPORT_AUTO_RELEASE);
		if (rc >= 0)
			xkey = NULL;	/* the key owns it now */
	}
	for (unsigned i = 0; i < n; i++)
		gnutls_x509_crt_deinit(crts[i]);
	gnutls_free(crts);
	gnutls_x509_privkey_deinit(xkey);
	if (cred)
		gnutls_certificate_free_credentials(cred);
	if (rc < 0) {
		snprintf(err, errlen, "%s", gnutls_strerror(rc));
		if (!p) {
			free(cert_pem);
			free_secret(key_pem, key_len);
		}
		pair_free(p);
		return NULL;
	}
	return p;
}

/* "CN=...; expires 2027-03-01 12:00:00 UTC" for the leaf of p, with
 * "EXPIRED" or "not valid before ..." when the clock says so. */
static void describe(const pair *p, char *out, size_t len)
{
	gnutls_x509_crt_t crt;
	gnutls_datum_t dn = {NULL, 0};
	time_t now = time(NULL), from = 0, until = 0;
	char a[32] = "?", b[32] = "?";
	struct tm tm;

	if (gnutls_x509_crt_init(&crt) < 0) {
		snprintf(out, len, "a certificate");
		return;
	}
	if (gnutls_x509_crt_import(crt, &p->certs[0].cert, GNUTLS_X509_FMT_DER) >= 0) {
		gnutls_x509_crt_get_dn3(crt, &dn, 0);
		from = gnutls_x509_crt_get_activation_time(crt);
		until = gnutls_x509_crt_get_expiration_time(crt);
	}
	if (until > 0 && gmtime_r(&until, &tm))
		strftime(a, sizeof a, "%Y-%m-%d %H:%M:%S UTC", &tm);
	if (from > 0 && gmtime_r(&from, &tm))
		strftime(b, sizeof b, "%Y-%m-%d %H:%M:%S UTC", &tm);
	if (until > 0 && until < now)
		snprintf(out, len, "%s; EXPIRED on %s", dn.data ? (char *)dn.data : "?", a);
	else if (from > now)
		snprintf(out, len, "%s; not valid before %s", dn.data ? (char *)dn.data : "?", b);
	else
		snprintf(out, len, "%s; expires %s", dn.data ? (char *)dn.data : "?", a);
	gnutls_free(dn.data);
	gnutls_x509_crt_deinit(crt);
}

/* Both files read and GnuTLS's verdict on them: 1 a new pair serves, 0 the
 * same bytes as the current pair, -1 not usable (msg: why). */
static int read_pair(tg_gw_tls *t, char *msg, size_t msglen)
{
	size_t cl, kl;
	char *cert = tg_read_file(t->cert_file, MAX_PEM_BYTES, &cl), *key;
	pair *cur = __atomic_load_n(&t->current, __ATOMIC_ACQUIRE), *p;

	if (!cert) {
		snprintf(msg, msglen, "cannot read '%s': %s", t->cert_file, strerror(errno));
		return -1;
	}
	if (!(key = tg_read_file(t->key_file, MAX_PEM_BYTES, &kl))) {
		snprintf(msg, msglen, "cannot read '%s': %s", t->key_file, strerror(errno));
		free(cert);
		return -1;
	}
	if (cur && cl == cur->cert_len && kl == cur->key_len &&
	    memcmp(cert, cur->cert_pem, cl) == 0 && memcmp(key, cur->key_pem, kl) == 0) {
		free(cert);
		free_secret(key, kl);
		return 0;
	}
	char why[256];
	if (!(p = pair_read(cert, cl, key, kl, why, sizeof why))) {
		snprintf(msg, msglen,
			 "GnuTLS cannot use the certificate '%s' with the key '%s': %s",
			 t->cert_file, t->key_file, why);
		return -1;
	}
	p->older = cur;
	__atomic_store_n(&t->current, p, __ATOMIC_RELEASE);
	tg_gw_secret_mode(t->key_file);
	describe(p, msg, msglen);
	return 1;
}

tg_gw_tls *tg_gw_tls_new(const char *cert_file, const char *key_file, char *msg, size_t msglen)
{
	tg_gw_tls *t = calloc(1, sizeof *t);

	if (!t) {
		snprintf(msg, msglen, "out of memory");
		return NULL;
	}
	t->cert_file = cert_file;
	t->key_file = key_file;
	tg_gw_file_changed(&t->cert_seen, cert_file);
	tg_gw_file_changed(&t->key_seen, key_file);
	if (read_pair(t, msg, msglen) != 1) {
		free(t);
		return NULL;
	}
	return t;
}

int tg_gw_tls_check(tg_gw_tls *t, const char *cert_file, const char *key_file, bool force,
		    char *msg, size_t msglen)
{
	/* Other files are read at once (a missing one said so), then watched
	 * like any others: a failure is said again only when they change. */
	if (strcmp(cert_file, t->cert_file) != 0 || strcmp(key_file, t->key_file) != 0) {
		t->cert_file = cert_file;
		t->key_file = key_file;
		t->cert_seen.known = t->key_seen.known = false;
		force = true;
	}
	/* Both stamps are taken every time, so one changed file is read once. */
	bool c = tg_gw_file_changed(&t->cert_seen, t->cert_file);
	bool k = tg_gw_file_changed(&t->key_seen, t->key_file);

	return force || c || k ? read_pair(t, msg, msglen) : 0;
}

/* gnutls_certificate_retrieve_function2: the current pair, for every
 * handshake, whatever the client asked for. */
static int retrieve(gnutls_session_t session, const gnutls_datum_t *req_ca_dn, int nreqs,
		    const gnutls_pk_algorithm_t *pk_algos, int pk_algos_length,
		    gnutls_pcert_st **pcert, unsigned *pcert_length, gnutls_privkey_t *key)
{
	tg_gw_tls *t = __atomic_load_n(&serving, __ATOMIC_ACQUIRE);
	pair *p = t ? __atomic_load_n(&t->current, __ATOMIC_ACQUIRE) : NULL;

	(void)session, (void)req_ca_dn, (void)nreqs, (void)pk_algos, (void)pk_algos_length;
	if (!p)
		return -1;
	*pcert = p->certs;
	*pcert_length = p->ncerts;
	*key = p->key;
	return 0;
}

int tg_gw_tls_serve(tg_gw_tls *t, struct MHD_OptionItem *opt, char *msg, size_t msglen)
{
	gnutls_certificate_retrieve_function2 *fn = retrieve;
	tg_gw_tls *none = NULL;

	if (!__atomic_compare_exchange_n(&serving, &none, t, false, __ATOMIC_ACQ_REL,
					 __ATOMIC_ACQUIRE)) {
		snprintf(msg, msglen, "another HTTPS server runs in this process");
		return -1;
	}
	/* libmicrohttpd hands ptr_value on as the function; POSIX makes
	 * function and object pointers interconvertible, memcpy keeps ISO C
	 * quiet about it. */
	_Static_assert(sizeof fn == sizeof opt->ptr_value, "a function pointer fits a void *");
	opt->option = MHD_OPTION_HTTPS_CERT_CALLBACK;
	opt->value = 0;
	memcpy(&opt->ptr_value, &fn, sizeof fn);
	return 0;
}

void tg_gw_tls_free(tg_gw_tls *t)
{
	if (!t)
		return;
	tg_gw_tls *self = t;
	__atomic_compare_exchange_n(&serving, &self, NULL, false, __ATOMIC_ACQ_REL,
				    __ATOMIC_ACQUIRE);
	for (pair *p = t->current, *next; p; p = next) {
		next = p->older;
		pair_free(p);
	}
	free(t);
}
