/*
 * kube: the loop. kube_client_run_once() uses libcurl's multi_socket API:
 * libcurl says which sockets to watch and when its timer is due (the two
 * callbacks below), the loop polls them with the caller's fds and a
 * wake-up eventfd and tells libcurl which socket is ready. With
 * curl_multi_perform() libcurl polled the connection's socket again for
 * every transfer on it, on every step. libcurl 7.88 still does so for all
 * but the first transfer of a step (one poll(2) each): over HTTP/2, with
 * watches and a few dozen writes on one connection, each step costs what
 * the transfers on it cost, whatever it reads. So a busy connection is
 * stepped at most once per read-coalescing window (kube.h), and one step
 * reads what several responses brought. Also the blocking
 * kube_request_sync(), built on the loop.
 */
#include <curl/curl.h>
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../log/log.h"
#include "../util/util.h"
#include "kube.h"
#include "kube_int.h"

/* ---- libcurl's sockets and timer ---- */

int kube_socket_cb(CURL *easy, curl_socket_t fd, int what, void *userp, void *socketp)
{
	struct kube_client *c = userp;
	size_t i;

	(void)easy;
	(void)socketp;
	for (i = 0; i < c->n_socks && c->socks[i].fd != fd; i++)
		;
	if (what == CURL_POLL_REMOVE) {
		if (i < c->n_socks)
			c->socks[i] = c->socks[--c->n_socks];
		return 0;
	}
	if (i == c->n_socks) {
		if (c->n_socks == c->cap_socks) {
			c->cap_socks = c->cap_socks ? 2 * c->cap_socks : 8;
			c->socks = util_xreallocarray(c->socks, c->cap_socks, sizeof(*c->socks));
		}
		c->socks[c->n_socks++].fd = fd;
	}
	c->socks[i].what = what;
	return 0;
}

int kube_timer_cb(CURLM *multi, long timeout_ms, void *userp)
{
	struct kube_client *c = userp;

	(void)multi;
	c->timer_due_ms = timeout_ms < 0 ? -1 : util_now_ms() + timeout_ms;
	return 0;
}

int kube_coalesce_wait_ms(int64_t now_ms, int64_t last_ms, int64_t window_ms)
{
	if (window_ms <= 0 || last_ms <= 0 || now_ms < last_ms || now_ms - last_ms >= window_ms)
		return 0;
	return (int)(window_ms - (now_ms - last_ms));
}

/* One libcurl step for fd (CURL_SOCKET_TIMEOUT: its timer) with the
 * CURL_CSELECT_* bits in mask. */
static CURLMcode kube_client_step(struct kube_client *c, curl_socket_t fd, int mask)
{
	int running = 0;
	return curl_multi_socket_action(c->multi, fd, mask, &running);
}

/* After the poll: when only the connection woke the loop, within the
 * read-coalescing window of its last step, wait out the window on the
 * caller's fds and the wake-up fd alone (any of them ends the wait), so
 * that the step reads more at once. The connection stays ready: its
 * revents from the first poll hold. -1 when poll fails. */
static int kube_client_coalesce(struct kube_client *c, struct pollfd *p, size_t ns, size_t nfds)
{
	bool sock = false, others = false;

	for (size_t i = 0; i < ns; i++)
		sock = sock || p[i].revents != 0;
	if (!sock)
		return 0;
	for (size_t i = ns; i < ns + nfds + 1; i++)
		others = others || p[i].revents != 0;
	int wait =
	    others ? 0 : kube_coalesce_wait_ms(util_now_ms(), c->last_sock_step_ms, c->coalesce_ms);
	if (wait > 0 && poll(p + ns, (nfds_t)(nfds + 1), wait) < 0 && errno != EINTR) {
		log_error("poll failed", "error", strerror(errno));
		return -1;
	}
	c->last_sock_step_ms = util_now_ms();
	return 0;
}

int kube_client_run_once(struct kube_client *c, struct kube_pollfd *fds, size_t nfds,
                         int timeout_ms)
{
	struct pollfd *p;
	size_t ns, n;
	CURLMcode mc = CURLM_OK;
	int rc = -1;

	if (c->in_perform || c->in_dispatch) {
		log_error("kube_client_run_once called from a callback");
		return -1;
	}
	/* libcurl's sockets as they are now (its callbacks may change the
	 * list during the steps below), then the caller's fds, then the
	 * wake-up fd, in an array the client keeps: this runs a few dozen
	 * times per decision in a burst. */
	ns = c->n_socks;
	n = ns + nfds + 1;
	if (n > c->cap_pfds) {
		free(c->pfds);
		c->pfds = util_xcalloc(n, sizeof(*c->pfds));
		c->cap_pfds = n;
	}
	p = c->pfds;
	/* Whole entries: revents of the last call must not survive an EINTR. */
	for (size_t i = 0; i < ns; i++)
		p[i] = (struct pollfd){
		    .fd = c->socks[i].fd,
		    .events = (short)(((c->socks[i].what & CURL_POLL_IN) ? POLLIN : 0) |
		                      ((c->socks[i].what & CURL_POLL_OUT) ? POLLOUT : 0))};
	for (size_t i = 0; i < nfds; i++) {
		p[ns + i] = (struct pollfd){.fd = fds[i].fd, .events = fds[i].events};
		fds[i].revents = 0;
	}
	p[n - 1] = (struct pollfd){.fd = c->wake_fd, .events = POLLIN};

	if (timeout_ms < 0)
		timeout_ms = INT_MAX;
	timeout_ms = kube_client_retry_wait(c, timeout_ms);
	if (c->timer_due_ms >= 0) {
		int64_t left = c->timer_due_ms - util_now_ms();
		if (left < timeout_ms)
			timeout_ms = left > 0 ? (int)left : 0;
	}
	if (poll(p, (nfds_t)n, timeout_ms) < 0 && errno != EINTR) {
		log_error("poll failed", "error", strerror(errno));
		goto out;
	}
	if (kube_client_coalesce(c, p, ns, nfds) != 0)
		goto out;
	for (size_t i = 0; i < nfds; i++)
		fds[i].revents = p[ns + i].revents;
	if (p[n - 1].revents & POLLIN) {
		uint64_t v;
		while (read(c->wake_fd, &v, sizeof(v)) > 0)
			;
	}

	c->in_perform = true;
	for (size_t i = 0; i < ns && mc == CURLM_OK; i++) {
		short re = p[i].revents;
		int mask = ((re & (POLLIN | POLLHUP)) ? CURL_CSELECT_IN : 0) |
		    ((re & POLLOUT) ? CURL_CSELECT_OUT : 0) |
		    ((re & POLLERR) ? CURL_CSELECT_ERR : 0);
		if (mask != 0)
			mc = kube_client_step(c, p[i].fd, mask);
	}
	if (mc == CURLM_OK && c->timer_due_ms >= 0 && util_now_ms() >= c->timer_due_ms) {
		c->timer_due_ms = -1;
		mc = kube_client_step(c, CURL_SOCKET_TIMEOUT, 0);
	}
	c->in_perform = false;
	kube_client_sweep(c);
	kube_client_dispatch(c);
	kube_client_retry_due(c);
	kube_client_admit(c);
	if (mc != CURLM_OK) {
		log_error("curl_multi_socket_action failed", "error", curl_multi_strerror(mc));
		goto out;
	}
	rc = 0;
out:
	return rc;
}

void kube_client_wakeup(struct kube_client *c)
{
	uint64_t one = 1;
	/* A full counter already wakes the poll: the error needs no care. */
	if (write(c->wake_fd, &one, sizeof(one)) < 0)
		return;
}

/* ---- blocking convenience ---- */

struct kube_sync {
	bool done;
	long status;
	char *body;
	char error[512];
};

static void kube_sync_done(void *ud, const struct kube_response *resp)
{
	struct kube_sync *s = ud;
	s->done = true;
	s->status = resp->status;
	s->body = util_xstrndup(resp->body, resp->body_len);
	snprintf(s->error, sizeof(s->error), "%s%s%s", resp->error,
	         resp->reason[0] ? " reason=" : "", resp->reason);
}

long kube_request_sync(struct kube_client *c, const char *method, const char *path,
                       const char *body, size_t body_len, const char *content_type,
                       char **resp_body, char *err, size_t errlen)
{
	struct kube_sync s = {0};
	struct kube_request *r;

	if (resp_body != NULL)
		*resp_body = NULL;
	if (err != NULL && errlen > 0)
		err[0] = '\0';
	if (c->in_perform || c->in_dispatch) {
		snprintf(err, errlen, "kube_request_sync called from a callback");
		return 0;
	}
	r = kube_request_start(c, method, path, body, body_len, content_type, kube_sync_done, NULL,
	                       &s);
	if (r == NULL) {
		snprintf(err, errlen, "request could not be started");
		return 0;
	}
	while (!s.done) {
		if (kube_client_run_once(c, NULL, 0, 1000) != 0) {
			if (!s.done)
				kube_request_cancel(r);
			break;
		}
	}
	if (s.status == 0 || s.status >= 400)
		snprintf(err, errlen, "%s", s.error);
	if (resp_body != NULL)
		*resp_body = s.body;
	else
		free(s.body);
	return s.status;
}
