/*
 * client_cost.c - what the client side of one proxied request costs, with
 * libcurl as the gateway uses it and with a plain socket, against the same
 * upstream (bench/gateway/latency.mjs runs both in every round).
 *
 *   tg-bench-client PORT PATH curl|socket SECONDS
 *
 * Sends the request latency.mjs's targets get (POST tools/call "echo"),
 * one at a time over one kept-alive connection, for SECONDS, and prints
 *   CLIENTCOST <requests> <CPU ns of this process>
 * CPU is CLOCK_PROCESS_CPUTIME_ID, user and kernel.
 *
 * curl: one easy handle, reset and given its options for every request, a
 * header list built for each, headers and body through callbacks: what
 * upstream_http.c does per call. socket: the same request bytes written
 * with send() and the answer read with recv() until as many bytes have come
 * as the first answer had (measured once, by reading until the upstream
 * stays quiet): the system calls and wake-ups of a client, nothing parsed.
 * The difference is libcurl's own work per request.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>

static const char body[] = "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/call\","
			   "\"params\":{\"name\":\"echo\",\"arguments\":{}}}";

static int64_t ns(clockid_t c)
{
	struct timespec t;

	clock_gettime(c, &t);
	return (int64_t)t.tv_sec * 1000000000 + t.tv_nsec;
}

static size_t got_data(char *p, size_t size, size_t n, void *ud)
{
	size_t *total = ud;

	(void)p;
	*total += size * n;
	return size * n;
}

static int run_curl(const char *url, int64_t until, long *count)
{
	CURL *e = curl_easy_init();
	size_t got = 0, headers = 0;

	if (!e)
		return -1;
	while (ns(CLOCK_MONOTONIC) < until) {
		struct curl_slist *h = NULL;
		long status = 0;

		curl_easy_reset(e);
		h = curl_slist_append(h, "Content-Type: application/json");
		h = curl_slist_append(h, "Accept: application/json, text/event-stream");
		h = curl_slist_append(h, "Expect:");
		curl_easy_setopt(e, CURLOPT_URL, url);
		curl_easy_setopt(e, CURLOPT_HTTPHEADER, h);
		curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
		curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
		curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, got_data);
		curl_easy_setopt(e, CURLOPT_HEADERDATA, &headers);
		curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, got_data);
		curl_easy_setopt(e, CURLOPT_WRITEDATA, &got);
		curl_easy_setopt(e, CURLOPT_HTTP_CONTENT_DECODING, 0L);
		curl_easy_setopt(e, CURLOPT_POST, 1L);
		curl_easy_setopt(e, CURLOPT_POSTFIELDS, body);
		curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)strlen(body));
		if (curl_easy_perform(e) != CURLE_OK ||
		    curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &status) != CURLE_OK || status != 200) {
			curl_slist_free_all(h);
			curl_easy_cleanup(e);
			return -1;
		}
		curl_easy_setopt(e, CURLOPT_HTTPHEADER, NULL);
		curl_slist_free_all(h);
		++*count;
	}
	curl_easy_cleanup(e);
	return 0;
}

static int run_socket(int port, const char *path, int64_t until, long *count)
{
	char req[1024], buf[65536];
	int len = snprintf(req, sizeof req,
			   "POST %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nContent-Type: application/json\r\n"
			   "Accept: application/json, text/event-stream\r\nContent-Length: %zu\r\n\r\n%s",
			   path, port, strlen(body), body);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
	int s = socket(AF_INET, SOCK_STREAM, 0), one = 1;
	size_t answer = 0;

	inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
	if (s < 0 || setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one) != 0 ||
	    connect(s, (struct sockaddr *)&a, sizeof a) != 0)
		return -1;
	/* The first answer's length: read until 200 ms pass without data. */
	if (send(s, req, (size_t)len, 0) != len)
		return -1;
	for (;;) {
		struct pollfd p = {.fd = s, .events = POLLIN};
		ssize_t k;

		if (poll(&p, 1, 200) <= 0)
			break;
		k = recv(s, buf, sizeof buf, 0);
		if (k <= 0)
			return -1;
		answer += (size_t)k;
	}
	if (answer == 0)
		return -1;
	while (ns(CLOCK_MONOTONIC) < until) {
		size_t got = 0;

		if (send(s, req, (size_t)len, 0) != len)
			return -1;
		while (got < answer) {
			ssize_t k = recv(s, buf, sizeof buf, 0);

			if (k <= 0)
				return -1;
			got += (size_t)k;
		}
		if (got != answer)
			return -1;	/* answers of another length: the count is off */
		++*count;
	}
	close(s);
	return 0;
}

int main(int argc, char **argv)
{
	char url[512];
	int64_t c0, until;
	long count = 0;
	int port, rc;

	if (argc != 5 || (strcmp(argv[3], "curl") != 0 && strcmp(argv[3], "socket") != 0)) {
		fprintf(stderr, "usage: tg-bench-client PORT PATH curl|socket SECONDS\n");
		return 2;
	}
	port = atoi(argv[1]);
	snprintf(url, sizeof url, "http://127.0.0.1:%d%s", port, argv[2]);
	curl_global_init(CURL_GLOBAL_DEFAULT);
	c0 = ns(CLOCK_PROCESS_CPUTIME_ID);
	until = ns(CLOCK_MONOTONIC) + (int64_t)(atof(argv[4]) * 1e9);
	rc = argv[3][0] == 'c' ? run_curl(url, until, &count) : run_socket(port, argv[2], until, &count);
	if (rc != 0 || count == 0) {
		fprintf(stderr, "tg-bench-client: %s: the upstream failed or answered wrongly\n", argv[3]);
		return 1;
	}
	printf("CLIENTCOST %ld %lld\n", count, (long long)(ns(CLOCK_PROCESS_CPUTIME_ID) - c0));
	curl_global_cleanup();
	return 0;
}
