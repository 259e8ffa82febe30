/*
 * relay.c - the server process and the poll() loop of `toolgate
 * proxy`.
 *
 * One thread moves bytes between four descriptors: the client's stdin and
 * stdout, and pipes to the child's stdin and from its stdout (the child's
 * stderr is the proxy's, so it passes through untouched). Lines go through
 * the core (core.c), which fills two queues; writes are non-blocking
 * and a side is only read while the queues are below a high-water mark, so
 * a slow peer slows the other down instead of growing memory, and neither
 * direction can deadlock the other.
 *
 * Ending: when the client closes stdin, the child's stdin is closed once
 * everything queued for it is written, and the proxy keeps relaying until
 * the child closes its stdout (after 5 s it gets SIGTERM, after 8 s
 * SIGKILL). When the child goes first, every request waiting for it is
 * answered with an error, and the proxy exits with status 2. The child is
 * always reaped.
 */
#define _DEFAULT_SOURCE	/* syscall() */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <linux/close_range.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "driver.h"
#include "proxy.h"

#define HIGH_WATER     (1024u * 1024)
#define READ_CHUNK     65536
#define TERM_AFTER_MS  5000
#define KILL_AFTER_MS  8000

static int signal_pipe[2] = {-1, -1};

static void on_signal(int sig)
{
	int saved = errno;
	char c = sig == SIGHUP ? 'H' : sig == SIGUSR1 ? 'U' : 'T';

	if (write(signal_pipe[1], &c, 1) < 0) {
		/* The pipe is full: a wake-up is already pending. */
	}
	errno = saved;
}

static int set_flags(int fd, int add)
{
	int fl = fcntl(fd, F_GETFL);

	return fl < 0 ? -1 : fcntl(fd, F_SETFL, fl | add);
}

static void client_line(void *ud, const char *s, size_t n)
{
	tg_proxy_client_line(ud, s, n);
}

static void client_over(void *ud, const char *head, size_t n)
{
	tg_proxy_client_oversized(ud, head, n);
}

static void server_line(void *ud, const char *s, size_t n)
{
	tg_proxy_server_line(ud, s, n);
}

static void server_over(void *ud, const char *head, size_t n)
{
	tg_proxy_server_oversized(ud, head, n);
}

/*
 * In the child, between fork and exec: every descriptor above stderr
 * closes on exec. The server gets its stdin, stdout and stderr and nothing
 * else of the proxy's or the gateway's (audit log, client and upstream
 * sockets, libcurl's and libmicrohttpd's descriptors), whichever library
 * opened them without close-on-exec. Only async-signal-safe calls: the
 * gateway forks from a threaded process. The status pipe's write end stays
 * usable until exec, as it is close-on-exec already.
 */
static void cloexec_from_3(void)
{
	struct rlimit rl;
	int fd, max = 65536;

#ifdef SYS_close_range
	if (syscall(SYS_close_range, 3u, ~0u, CLOSE_RANGE_CLOEXEC) == 0)
		return;
#endif
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY &&
	    rl.rlim_cur < (rlim_t)max)
		max = (int)rl.rlim_cur;
	for (fd = 3; fd < max; fd++)
		fcntl(fd, F_SETFD, FD_CLOEXEC);
}

/* pipe() with both ends close-on-exec (and `fl` file status flags). */
static int make_pipe(int fd[2], int fl)
{
	if (pipe(fd) != 0)
		return -1;
	if (fcntl(fd[0], F_SETFD, FD_CLOEXEC) != 0 || fcntl(fd[1], F_SETFD, FD_CLOEXEC) != 0 ||
	    (fl && (set_flags(fd[0], fl) != 0 || set_flags(fd[1], fl) != 0))) {
		close(fd[0]);
		close(fd[1]);
		return -1;
	}
	return 0;
}

extern char **environ;

/* Whether entry e ("NAME=value") sets a variable one of env's entries sets. */
static bool env_set_by(char *const *env, const char *e)
{
	size_t n = strcspn(e, "=");

	for (; *env; env++)
		if (strncmp(*env, e, n) == 0 && (*env)[n] == '=')
			return true;
	return false;
}

/* environ with env's entries in place of the variables they name (the
 * strings borrowed), made before fork: the child of a threaded process
 * may not allocate. NULL when env adds nothing, or out of memory (*oom). */
static char **child_env(char *const *env, bool *oom)
{
	size_t n = 0, k = 0, o = 0;
	char **e, **v;

	*oom = false;
	if (!env || !env[0])
		return NULL;
	for (e = environ; e && *e; e++)
		n++;
	while (env[k])
		k++;
	if (!(v = malloc((n + k + 1) * sizeof *v))) {
		*oom = true;
		return NULL;
	}
	for (e = environ; e && *e; e++)
		if (!env_set_by(env, *e))
			v[o++] = *e;
	for (size_t i = 0; i < k; i++)
		v[o++] = env[i];
	v[o] = NULL;
	return v;
}

pid_t tg_px_spawn(char **argv, char *const *env, int *to_child, int *from_child)
{
	int in[2], out[2], status[2], err = 0;
	bool oom;
	char **envp = child_env(env, &oom);
	pid_t pid;
	ssize_t n;

	if (oom) {
		tg_drv_error("proxy: cannot start '%s': out of memory", argv[0]);
		return -1;
	}

	if (make_pipe(in, 0) != 0)
		goto pipe_fail;
	if (make_pipe(out, 0) != 0) {
		close(in[0]);
		close(in[1]);
		goto pipe_fail;
	}
	if (make_pipe(status, 0) != 0) {
		close(in[0]);
		close(in[1]);
		close(out[0]);
		close(out[1]);
		goto pipe_fail;
	}
	pid = fork();
	if (pid == 0) {
		signal(SIGPIPE, SIG_DFL);
		signal(SIGHUP, SIG_DFL);
		signal(SIGUSR1, SIG_DFL);
		signal(SIGINT, SIG_DFL);
		signal(SIGTERM, SIG_DFL);
		if (dup2(in[0], 0) < 0 || dup2(out[1], 1) < 0) {
			err = errno;
		} else {
			cloexec_from_3();
			if (envp)
				environ = envp;	/* execvp passes it on */
			execvp(argv[0], argv);
			err = errno;
		}
		if (write(status[1], &err, sizeof err) < 0) {
			/* Nothing more can be reported. */
		}
		_exit(127);
	}
	err = errno;
	free(envp);
	close(in[0]);
	close(out[1]);
	close(status[1]);
	if (pid < 0) {
		close(in[1]);
		close(out[0]);
		close(status[0]);
		tg_drv_error("proxy: cannot start '%s': %s", argv[0], strerror(err));
		return -1;
	}
	/* The status pipe closes on a successful exec and carries errno
	 * otherwise. */
	do
		n = read(status[0], &err, sizeof err);
	while (n < 0 && errno == EINTR);
	close(status[0]);
	if (n == (ssize_t)sizeof err) {
		tg_drv_error("proxy: cannot run '%s': %s", argv[0], strerror(err));
		close(in[1]);
		close(out[0]);
		waitpid(pid, NULL, 0);
		return -1;
	}
	*to_child = in[1];
	*from_child = out[0];
	return pid;
pipe_fail:
	err = errno;
	free(envp);
	tg_drv_error("proxy: cannot create a pipe: %s", strerror(err));
	return -1;
}

/* Writes what it can of b to fd. Returns false when fd is broken. */
static bool flush_some(int fd, tg_px_buf *b)
{
	while (tg_px_buf_size(b) > 0) {
		ssize_t n = write(fd, b->data + b->off, tg_px_buf_size(b));

		if (n > 0) {
			tg_px_buf_drop(b, (size_t)n);
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return true;
		return false;
	}
	return true;
}

static void describe(int status, char *buf, size_t len)
{
	if (WIFEXITED(status))
		snprintf(buf, len, "exited with status %d", WEXITSTATUS(status));
	else if (WIFSIGNALED(status))
		snprintf(buf, len, "was killed by signal %d", WTERMSIG(status));
	else
		snprintf(buf, len, "ended");
}

static void print_stats(const tg_proxy *px)
{
	const tg_proxy_stats *s = &px->stats;
	unsigned long decisions = s->allowed + s->denied + s->invalid;
	struct rusage ru;
	double cpu;

	getrusage(RUSAGE_SELF, &ru);
	cpu = (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
	      (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
	tg_drv_error("proxy: stats: %lu allowed, %lu denied, %lu invalid, %lu passed, "
		     "%lu refused, %lu list entries hidden, %lu cancelled, %lu timed out; "
		     "cpu %.3f s in all, %.3f s deciding (%.2f us per decision)",
		     s->allowed, s->denied, s->invalid, s->passed, s->rejected, s->filtered,
		     s->cancelled, s->timed_out, cpu,
		     s->decide_cpu, decisions ? s->decide_cpu * 1e6 / (double)decisions : 0.0);
}

int tg_relay_run(tg_proxy *px, const tg_relay_opts *o)
{
	tg_px_lines from_client = {{0}, o->max_line, false};
	/* Server lines carry whole results (files, images): the limit only
	 * bounds memory there, so it is far larger than the client's. */
	tg_px_lines from_server = {{0}, o->max_line > TG_PROXY_SERVER_MAX_LINE ? o->max_line
					      : TG_PROXY_SERVER_MAX_LINE, false};
	tg_px_line_sink csink = {client_line, client_over, px};
	tg_px_line_sink ssink = {server_line, server_over, px};
	struct sigaction sa;
	int to_child = -1, from_child = -1, stdout_flags = -1, status = 0, rc = TG_EXIT_OK;
	bool client_eof = false, client_out_ok = true, server_eof = false, reaped = false;
	bool terminated = false, killed = false, stop = false;
	int64_t stdin_closed_at = 0, reaped_at = 0;
	char *chunk;
	pid_t pid;

	chunk = malloc(READ_CHUNK);
	if (!chunk || make_pipe(signal_pipe, O_NONBLOCK) != 0) {
		free(chunk);
		tg_drv_error("proxy: cannot set up: %s", strerror(errno));
		return TG_EXIT_USAGE;
	}
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGHUP, &sa, NULL);
	sigaction(SIGUSR1, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	pid = tg_px_spawn(o->argv, NULL, &to_child, &from_child);
	if (pid < 0) {
		rc = TG_EXIT_USAGE;
		goto out;
	}
	set_flags(to_child, O_NONBLOCK);
	set_flags(from_child, O_NONBLOCK);
	stdout_flags = fcntl(1, F_GETFL);
	set_flags(1, O_NONBLOCK);

	for (;;) {
		struct pollfd fds[5];
		int nfds = 0, isig, iin = -1, isrv = -1, ito = -1, iout = -1;
		int64_t now = tg_proxy_now_ms();

		if (o->reloader)
			tg_reload_check(o->reloader, px->holder, false);
		tg_proxy_tick(px, now);

		if (!reaped && waitpid(pid, &status, WNOHANG) == pid) {
			reaped = true;
			reaped_at = now;
		}
		/* A child that exited while something else holds its stdout
		 * open: give the pipe a moment, then call it gone. */
		if (reaped && !server_eof && now - reaped_at > 500)
			server_eof = true;
		if ((client_eof || stop) && to_child >= 0 &&
		    (tg_px_buf_size(&px->to_server) == 0 || stop)) {
			close(to_child);
			to_child = -1;
			stdin_closed_at = now;
		}
		if (to_child < 0 && !server_eof && !reaped && stdin_closed_at) {
			if (!terminated && now - stdin_closed_at > TERM_AFTER_MS) {
				tg_drv_error("proxy: the MCP server did not exit after its stdin "
					     "closed; sending SIGTERM");
				kill(pid, SIGTERM);
				terminated = true;
			} else if (!killed && now - stdin_closed_at > KILL_AFTER_MS) {
				kill(pid, SIGKILL);
				killed = true;
			}
		}
		if (server_eof) {
			if (!client_eof && !stop) {
				/* The server went first: answer everyone waiting. */
				if (!reaped) {
					waitpid(pid, &status, 0);
					reaped = true;
				}
				describe(status, chunk, READ_CHUNK);
				tg_drv_error("proxy: the MCP server %s", chunk);
				tg_proxy_server_gone(px, chunk);
				rc = TG_EXIT_USAGE;
				client_eof = true;
			}
			if (!client_out_ok || tg_px_buf_size(&px->to_client) == 0)
				break;
		}

		fds[nfds].fd = signal_pipe[0];
		fds[nfds].events = POLLIN;
		isig = nfds++;
		if (!client_eof && !stop && tg_proxy_accepts_client(px) &&
		    tg_px_buf_size(&px->to_server) < HIGH_WATER &&
		    tg_px_buf_size(&px->to_client) < HIGH_WATER) {
			fds[nfds].fd = 0;
			fds[nfds].events = POLLIN;
			iin = nfds++;
		}
		if (!server_eof && tg_px_buf_size(&px->to_client) < HIGH_WATER) {
			fds[nfds].fd = from_child;
			fds[nfds].events = POLLIN;
			isrv = nfds++;
		}
		if (to_child >= 0 && tg_px_buf_size(&px->to_server) > 0) {
			fds[nfds].fd = to_child;
			fds[nfds].events = POLLOUT;
			ito = nfds++;
		}
		if (client_out_ok && tg_px_buf_size(&px->to_client) > 0) {
			fds[nfds].fd = 1;
			fds[nfds].events = POLLOUT;
			iout = nfds++;
		}
		if (poll(fds, (nfds_t)nfds, 250) < 0) {
			if (errno == EINTR)
				continue;
			tg_drv_error("proxy: poll: %s", strerror(errno));
			rc = TG_EXIT_USAGE;
			break;
		}
		if (fds[isig].revents) {
			char sigs[16];
			ssize_t n, i;

			while ((n = read(signal_pipe[0], sigs, sizeof sigs)) > 0) {
				for (i = 0; i < n; i++) {
					if (sigs[i] == 'H' && o->reloader)
						tg_reload_check(o->reloader, px->holder, true);
					if (sigs[i] == 'H' && o->on_hup)
						o->on_hup(o->hup_ud);
					else if (sigs[i] == 'U' && o->on_usr1)
						o->on_usr1(o->usr1_ud);
					else if (sigs[i] == 'T' && !stop) {
						stop = true;
						kill(pid, SIGTERM);
						terminated = true;
						stdin_closed_at = now;
					}
				}
			}
		}
		if (iin >= 0 && fds[iin].revents) {
			ssize_t n = read(0, chunk, READ_CHUNK);

			if (n > 0) {
				if (tg_px_lines_feed(&from_client, chunk, (size_t)n, &csink) != 0)
					tg_drv_error("proxy: out of memory reading the client");
			} else if (n == 0 || (errno != EINTR && errno != EAGAIN)) {
				tg_px_lines_finish(&from_client, &csink);
				client_eof = true;
			}
		}
		if (isrv >= 0 && fds[isrv].revents) {
			ssize_t n = read(from_child, chunk, READ_CHUNK);

			if (n > 0) {
				if (tg_px_lines_feed(&from_server, chunk, (size_t)n, &ssink) != 0)
					tg_drv_error("proxy: out of memory reading the server");
			} else if (n == 0 || (errno != EINTR && errno != EAGAIN)) {
				tg_px_lines_finish(&from_server, &ssink);
				server_eof = true;
			}
		}
		if (ito >= 0 && fds[ito].revents && !flush_some(to_child, &px->to_server)) {
			/* The server stopped reading: it is going away. */
			tg_px_buf_drop(&px->to_server, tg_px_buf_size(&px->to_server));
			close(to_child);
			to_child = -1;
			stdin_closed_at = now;
		}
		if (iout >= 0 && fds[iout].revents && !flush_some(1, &px->to_client)) {
			/* The client is gone: nobody can be answered any more. */
			client_out_ok = false;
			client_eof = true;
			tg_px_buf_drop(&px->to_client, tg_px_buf_size(&px->to_client));
		}
	}

	if (to_child >= 0)
		close(to_child);
	close(from_child);
	if (!reaped) {
		/* Its stdout is closed; give it the same grace before killing. */
		int64_t start = tg_proxy_now_ms();

		while (waitpid(pid, &status, WNOHANG) == 0) {
			int64_t waited = tg_proxy_now_ms() - start;

			if (waited > TERM_AFTER_MS && !terminated) {
				kill(pid, SIGTERM);
				terminated = true;
			} else if (waited > KILL_AFTER_MS) {
				kill(pid, SIGKILL);
				waitpid(pid, &status, 0);
				break;
			}
			poll(NULL, 0, 20);
		}
	}
	if (rc == TG_EXIT_OK && !terminated && !(WIFEXITED(status) && WEXITSTATUS(status) == 0)) {
		describe(status, chunk, READ_CHUNK);
		tg_drv_error("proxy: the MCP server %s", chunk);
		rc = TG_EXIT_USAGE;
	}
	if (stop && rc == TG_EXIT_OK)
		rc = TG_EXIT_USAGE;
	if (stdout_flags >= 0)
		fcntl(1, F_SETFL, stdout_flags);
out:
	if (o->stats)
		print_stats(px);
	tg_px_lines_free(&from_client);
	tg_px_lines_free(&from_server);
	close(signal_pipe[0]);
	close(signal_pipe[1]);
	signal_pipe[0] = signal_pipe[1] = -1;
	free(chunk);
	return rc;
}
