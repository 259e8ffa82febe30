/*
 * metrics.c - what /metrics reports, in Prometheus' text format:
 * decisions by outcome and upstream, refusals by reason, a latency
 * histogram of forwarded requests (until the upstream's answer starts),
 * reloads and upstream errors. Plain counters behind one mutex: a scrape
 * and the requests it counts never need more.
 */
#include <stdlib.h>
#include <string.h>

#include "gateway.h"

static const double bounds[TG_GW_LATENCY_BUCKETS] = {
	0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5,
};
static const char *const outcomes[TG_GW_OUT_COUNT] = {
	"allow", "deny", "invalid", "lifecycle", "shadow_allow", "shadow_deny",
};
static const char *const refusals[TG_GW_REF_COUNT] = {
	"not_found", "origin", "too_large", "media_type", "parse_error", "invalid_request",
	"method", "protocol_version", "session", "identity", "audit", "busy", "header_mismatch",
	"peer",
};

void tg_gw_metrics_init(tg_gw_metrics *m)
{
	memset(m, 0, sizeof *m);
	pthread_mutex_init(&m->lock, NULL);
}

void tg_gw_metrics_destroy(tg_gw_metrics *m)
{
	pthread_mutex_destroy(&m->lock);
}

/* The row of an upstream's counters; the last row collects names past the
 * table (never more than the configuration's upstreams in practice). */
static size_t row(tg_gw_metrics *m, const char *name)
{
	size_t i;

	for (i = 0; i < m->nnames; i++)
		if (strcmp(m->names[i], name) == 0)
			return i;
	if (m->nnames == TG_GW_MAX_UPSTREAM_METRICS)
		return TG_GW_MAX_UPSTREAM_METRICS - 1;
	snprintf(m->names[m->nnames], sizeof m->names[0], "%s", name);
	return m->nnames++;
}

void tg_gw_metrics_decision(tg_gw_metrics *m, const char *upstream, tg_gw_outcome o)
{
	pthread_mutex_lock(&m->lock);
	m->decisions[row(m, upstream)][o]++;
	pthread_mutex_unlock(&m->lock);
}

void tg_gw_metrics_upstream_error(tg_gw_metrics *m, const char *upstream)
{
	pthread_mutex_lock(&m->lock);
	m->upstream_errors[row(m, upstream)]++;
	pthread_mutex_unlock(&m->lock);
}

void tg_gw_metrics_refusal(tg_gw_metrics *m, tg_gw_refusal r)
{
	pthread_mutex_lock(&m->lock);
	m->refusals[r]++;
	pthread_mutex_unlock(&m->lock);
}

void tg_gw_metrics_latency(tg_gw_metrics *m, double s)
{
	size_t i;

	pthread_mutex_lock(&m->lock);
	for (i = 0; i < TG_GW_LATENCY_BUCKETS && s > bounds[i]; i++)
		;
	m->latency[i]++;
	m->latency_sum += s;
	m->latency_count++;
	pthread_mutex_unlock(&m->lock);
}

void tg_gw_metrics_reload(tg_gw_metrics *m, bool ok)
{
	pthread_mutex_lock(&m->lock);
	if (ok)
		m->reloads++;
	else
		m->reload_failures++;
	pthread_mutex_unlock(&m->lock);
}

char *tg_gw_metrics_text(tg_gw_metrics *m, size_t *len)
{
	char *buf = NULL;
	FILE *o = open_memstream(&buf, len);
	unsigned long cum = 0;
	size_t i, j;

	if (!o)
		return NULL;
	pthread_mutex_lock(&m->lock);
	fputs("# HELP toolgate_gateway_decisions_total Policy decisions by outcome and upstream.\n"
	      "# TYPE toolgate_gateway_decisions_total counter\n", o);
	for (i = 0; i < m->nnames; i++)
		for (j = 0; j < TG_GW_OUT_COUNT; j++)
			fprintf(o, "toolgate_gateway_decisions_total{upstream=\"%s\",outcome=\"%s\"} %lu\n",
				m->names[i], outcomes[j], m->decisions[i][j]);
	fputs("# HELP toolgate_gateway_refusals_total Requests refused before any decision, by reason.\n"
	      "# TYPE toolgate_gateway_refusals_total counter\n", o);
	for (j = 0; j < TG_GW_REF_COUNT; j++)
		fprintf(o, "toolgate_gateway_refusals_total{reason=\"%s\"} %lu\n", refusals[j],
			m->refusals[j]);
	fputs("# HELP toolgate_gateway_upstream_errors_total Upstreams that failed, hung or died.\n"
	      "# TYPE toolgate_gateway_upstream_errors_total counter\n", o);
	for (i = 0; i < m->nnames; i++)
		fprintf(o, "toolgate_gateway_upstream_errors_total{upstream=\"%s\"} %lu\n", m->names[i],
			m->upstream_errors[i]);
	fputs("# HELP toolgate_gateway_upstream_latency_seconds Time from a forwarded request to "
	      "the start of its answer.\n"
	      "# TYPE toolgate_gateway_upstream_latency_seconds histogram\n", o);
	for (i = 0; i < TG_GW_LATENCY_BUCKETS; i++) {
		cum += m->latency[i];
		fprintf(o, "toolgate_gateway_upstream_latency_seconds_bucket{le=\"%g\"} %lu\n",
			bounds[i], cum);
	}
	fprintf(o, "toolgate_gateway_upstream_latency_seconds_bucket{le=\"+Inf\"} %lu\n",
		m->latency_count);
	fprintf(o, "toolgate_gateway_upstream_latency_seconds_sum %.6f\n", m->latency_sum);
	fprintf(o, "toolgate_gateway_upstream_latency_seconds_count %lu\n", m->latency_count);
	fputs("# HELP toolgate_gateway_reloads_total Policy, configuration and TLS certificate reloads.\n"
	      "# TYPE toolgate_gateway_reloads_total counter\n", o);
	fprintf(o, "toolgate_gateway_reloads_total{result=\"ok\"} %lu\n", m->reloads);
	fprintf(o, "toolgate_gateway_reloads_total{result=\"failed\"} %lu\n", m->reload_failures);
	pthread_mutex_unlock(&m->lock);
	if (fclose(o) != 0) {
		free(buf);
		return NULL;
	}
	return buf;
}
