#include "httpd.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <microhttpd.h>

#include "../log/log.h"
#include "../util/util.h"

#define HTTPD_BACKLOG 64
#define HTTPD_CONNECTION_LIMIT 64
#define HTTPD_TIMEOUT_S 10

struct httpd_listener {
	struct MHD_Daemon *daemon;
	char *addr; /* owned: as given, to spot a repeated address */
	int port;
};

struct httpd {
	struct metrics *metrics; /* borrowed */
	atomic_bool ready;
	pthread_mutex_t mu; /* guards reason */
	char reason[HTTPD_MAX_REASON]; /* why not ready; "" when not said */
	struct httpd_listener listeners[HTTPD_MAX_LISTENERS];
	size_t n;
};

int httpd_parse_addr(const char *addr, char *host, size_t hostlen, int *port, char *err,
                     size_t errlen)
{
	const char *colon, *h;
	size_t hl;

	if (addr == NULL || *addr == '\0') {
		snprintf(err, errlen, "empty address");
		return -1;
	}
	if (addr[0] == '[') {
		const char *close = strchr(addr, ']');
		if (close == NULL || close[1] != ':') {
			snprintf(err, errlen, "address %s: want [IPv6]:PORT", addr);
			return -1;
		}
		h = addr + 1;
		hl = (size_t)(close - h);
		colon = close + 1;
		if (hl == 0) {
			snprintf(err, errlen, "address %s: empty IPv6 address", addr);
			return -1;
		}
	} else {
		colon = strrchr(addr, ':');
		if (colon == NULL) {
			snprintf(err, errlen, "address %s: want HOST:PORT or :PORT", addr);
			return -1;
		}
		h = addr;
		hl = (size_t)(colon - addr);
		if (memchr(h, ':', hl) != NULL) {
			snprintf(err, errlen, "address %s: put an IPv6 address in brackets", addr);
			return -1;
		}
	}
	if (hl >= hostlen) {
		snprintf(err, errlen, "address %s: host too long", addr);
		return -1;
	}
	const char *ps = colon + 1;
	int64_t p;
	if (*ps == '\0' || strspn(ps, "0123456789") != strlen(ps) || strlen(ps) > 5 ||
	    util_parse_int64(ps, 0, 65535, &p) != 0) {
		snprintf(err, errlen, "address %s: port must be a number in 0-65535", addr);
		return -1;
	}
	memcpy(host, h, hl);
	host[hl] = '\0';
	*port = (int)p;
	return 0;
}

/* A listening TCP socket on host:port; host "" or "::" means every
 * interface (IPv6 and IPv4 on one dual-stack socket, or IPv4 alone where
 * IPv6 is off).
 * Returns the fd or -1 with err. */
static int httpd_listen(const char *addr, const char *host, int port, char *err, size_t errlen)
{
	struct addrinfo hints, *res = NULL;
	char service[8];
	int fd = -1, one = 1, zero = 0, rc;
	struct sockaddr_in6 any6;

	snprintf(service, sizeof(service), "%d", port);
	if (*host == '\0' || strcmp(host, "::") == 0) {
		fd = socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (fd >= 0) {
			memset(&any6, 0, sizeof(any6));
			any6.sin6_family = AF_INET6;
			any6.sin6_addr = in6addr_any;
			any6.sin6_port = htons((uint16_t)port);
			if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0 ||
			    setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof(zero)) != 0 ||
			    bind(fd, (struct sockaddr *)&any6, sizeof(any6)) != 0 ||
			    listen(fd, HTTPD_BACKLOG) != 0) {
				snprintf(err, errlen, "listen on %s: %s", addr, strerror(errno));
				close(fd);
				return -1;
			}
			return fd;
		}
		if (errno != EAFNOSUPPORT) {
			snprintf(err, errlen, "listen on %s: socket: %s", addr, strerror(errno));
			return -1;
		}
		/* No IPv6 on this host: every IPv4 interface then. */
		host = "0.0.0.0";
	}

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICSERV | AI_PASSIVE;
	rc = getaddrinfo(host, service, &hints, &res);
	if (rc != 0) {
		snprintf(err, errlen, "listen on %s: %s", addr, gai_strerror(rc));
		return -1;
	}
	/* The first address the resolver gives, as other controllers do. */
	fd = socket(res->ai_family, res->ai_socktype | SOCK_CLOEXEC, res->ai_protocol);
	if (fd < 0) {
		snprintf(err, errlen, "listen on %s: socket: %s", addr, strerror(errno));
		goto out;
	}
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0 ||
	    (res->ai_family == AF_INET6 &&
	     setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one)) != 0) ||
	    bind(fd, res->ai_addr, res->ai_addrlen) != 0 || listen(fd, HTTPD_BACKLOG) != 0) {
		snprintf(err, errlen, "listen on %s: %s", addr, strerror(errno));
		close(fd);
		fd = -1;
	}
out:
	freeaddrinfo(res);
	return fd;
}

static enum MHD_Result httpd_reply(struct MHD_Connection *conn, unsigned int status,
                                   const char *content_type, char *body, size_t len,
                                   enum MHD_ResponseMemoryMode mode)
{
	struct MHD_Response *r = MHD_create_response_from_buffer(len, body, mode);
	if (r == NULL) {
		if (mode == MHD_RESPMEM_MUST_FREE)
			free(body);
		return MHD_NO;
	}
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, content_type);
	MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
	if (status == MHD_HTTP_METHOD_NOT_ALLOWED)
		MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
	enum MHD_Result ret = MHD_queue_response(conn, status, r);
	MHD_destroy_response(r);
	return ret;
}

#define HTTPD_TEXT "text/plain; charset=utf-8"

static enum MHD_Result httpd_text(struct MHD_Connection *conn, unsigned int status,
                                  const char *body)
{
	return httpd_reply(conn, status, HTTPD_TEXT, (char *)body, strlen(body),
	                   MHD_RESPMEM_PERSISTENT);
}

/* Runs on libmicrohttpd's thread. Answers on the first call, before any
 * request body arrives: no path here takes one. */
static enum MHD_Result httpd_handle(void *cls, struct MHD_Connection *conn, const char *url,
                                    const char *method, const char *version,
                                    const char *upload_data, size_t *upload_data_size,
                                    void **con_cls)
{
	struct httpd *h = cls;
	(void)version;
	(void)upload_data;
	(void)upload_data_size;

	if (*con_cls != NULL)
		return MHD_NO; /* body data for a request already answered */
	*con_cls = h;

	if (strcmp(method, MHD_HTTP_METHOD_GET) != 0 && strcmp(method, MHD_HTTP_METHOD_HEAD) != 0)
		return httpd_text(conn, MHD_HTTP_METHOD_NOT_ALLOWED, "method not allowed\n");
	if (strcmp(url, "/healthz") == 0)
		return httpd_text(conn, MHD_HTTP_OK, "ok\n");
	if (strcmp(url, "/readyz") == 0) {
		char body[HTTPD_MAX_REASON + 16];
		if (atomic_load(&h->ready))
			return httpd_text(conn, MHD_HTTP_OK, "ok\n");
		pthread_mutex_lock(&h->mu);
		snprintf(body, sizeof(body), "not ready%s%s\n", h->reason[0] ? ": " : "",
		         h->reason);
		pthread_mutex_unlock(&h->mu);
		return httpd_reply(conn, MHD_HTTP_SERVICE_UNAVAILABLE, HTTPD_TEXT, body,
		                   strlen(body), MHD_RESPMEM_MUST_COPY);
	}
	if (strcmp(url, "/metrics") == 0 && h->metrics != NULL) {
		char *text = metrics_render(h->metrics);
		return httpd_reply(conn, MHD_HTTP_OK, HTTPD_METRICS_CONTENT_TYPE, text,
		                   strlen(text), MHD_RESPMEM_MUST_FREE);
	}
	return httpd_text(conn, MHD_HTTP_NOT_FOUND, "not found\n");
}

/* libmicrohttpd's own errors (accept failures, exhausted memory): rare, and
 * written as one log line each. */
__attribute__((format(printf, 2, 0))) static void httpd_mhd_log(void *cls, const char *fmt,
                                                                va_list ap)
{
	char msg[512];
	(void)cls;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	size_t n = strlen(msg);
	while (n > 0 && (msg[n - 1] == '\n' || msg[n - 1] == '\r'))
		msg[--n] = '\0';
	log_warn("http server error", "error", msg);
}

int httpd_add_listener(struct httpd *h, const char *addr, char *err, size_t errlen)
{
	char host[256];
	int port, fd;

	for (size_t i = 0; i < h->n; i++)
		if (strcmp(h->listeners[i].addr, addr) == 0)
			return h->listeners[i].port;
	if (h->n == HTTPD_MAX_LISTENERS) {
		snprintf(err, errlen, "listen on %s: too many listeners", addr);
		return -1;
	}
	if (httpd_parse_addr(addr, host, sizeof(host), &port, err, errlen) != 0)
		return -1;
	fd = httpd_listen(addr, host, port, err, errlen);
	if (fd < 0)
		return -1;

	struct MHD_Daemon *d = MHD_start_daemon(
	    MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_AUTO | MHD_USE_ERROR_LOG, 0, NULL, NULL,
	    httpd_handle, h, MHD_OPTION_EXTERNAL_LOGGER, httpd_mhd_log, NULL,
	    MHD_OPTION_LISTEN_SOCKET, (MHD_socket)fd, MHD_OPTION_CONNECTION_LIMIT,
	    (unsigned int)HTTPD_CONNECTION_LIMIT, MHD_OPTION_CONNECTION_TIMEOUT,
	    (unsigned int)HTTPD_TIMEOUT_S, MHD_OPTION_END);
	if (d == NULL) {
		snprintf(err, errlen, "listen on %s: could not start the HTTP server", addr);
		close(fd);
		return -1;
	}
	const union MHD_DaemonInfo *info = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
	int bound = info != NULL ? (int)info->port : 0;
	if (bound == 0) {
		struct sockaddr_storage ss;
		socklen_t sl = sizeof(ss);
		if (getsockname(fd, (struct sockaddr *)&ss, &sl) == 0)
			bound = ss.ss_family == AF_INET6
			    ? ntohs(((struct sockaddr_in6 *)&ss)->sin6_port)
			    : ntohs(((struct sockaddr_in *)&ss)->sin_port);
	}
	h->listeners[h->n].daemon = d;
	h->listeners[h->n].addr = util_xstrdup(addr);
	h->listeners[h->n].port = bound;
	h->n++;
	return bound;
}

struct httpd *httpd_start(const char *addr, struct metrics *m, char *err, size_t errlen)
{
	struct httpd *h = util_xcalloc(1, sizeof(*h));
	h->metrics = m;
	atomic_init(&h->ready, false);
	pthread_mutex_init(&h->mu, NULL);
	if (httpd_add_listener(h, addr, err, errlen) < 0) {
		pthread_mutex_destroy(&h->mu);
		free(h);
		return NULL;
	}
	return h;
}

void httpd_stop(struct httpd *h)
{
	if (h == NULL)
		return;
	for (size_t i = 0; i < h->n; i++) {
		/* Closes the listening socket too. */
		MHD_stop_daemon(h->listeners[i].daemon);
		free(h->listeners[i].addr);
	}
	pthread_mutex_destroy(&h->mu);
	free(h);
}

int httpd_port(const struct httpd *h)
{
	return h->n > 0 ? h->listeners[0].port : 0;
}

void httpd_set_ready(struct httpd *h, bool ready)
{
	pthread_mutex_lock(&h->mu);
	h->reason[0] = '\0';
	atomic_store(&h->ready, ready);
	pthread_mutex_unlock(&h->mu);
}

void httpd_set_not_ready(struct httpd *h, const char *why)
{
	pthread_mutex_lock(&h->mu);
	/* One line of plain text: control characters would break it. */
	size_t n = 0;
	for (; why != NULL && why[n] != '\0' && n + 1 < sizeof(h->reason); n++)
		h->reason[n] = (unsigned char)why[n] < 0x20 ? ' ' : why[n];
	h->reason[n] = '\0';
	atomic_store(&h->ready, false);
	pthread_mutex_unlock(&h->mu);
}

bool httpd_ready(const struct httpd *h)
{
	return atomic_load(&h->ready);
}

const char *httpd_library_version(void)
{
	return MHD_get_version();
}
