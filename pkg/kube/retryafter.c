/*
 * Retry-After on 429 and 5xx answers (RFC 9110, section 10.2.3). The API
 * server's priority and fairness answers 429 with Retry-After when the
 * priority level of a request is full, and a server shutting down with
 * --shutdown-send-retry-after does the same. client-go waits as asked and
 * sends the request again, up to 10 times; so does this client
 * (kube_request_complete() in kubeclient.c schedules the attempt,
 * kube_client_run_once() starts it when it is due).
 */
#include <string.h>

#include "kube.h"

static bool kube_ows(char ch)
{
	return ch == ' ' || ch == '\t';
}

int kube_retry_after_parse(const char *value, size_t len, int64_t *ms)
{
	size_t i = 0, end = len;
	int64_t s = 0;

	if (value == NULL)
		return -1;
	while (i < end && kube_ows(value[i]))
		i++;
	while (end > i && kube_ows(value[end - 1]))
		end--;
	/* Only delta-seconds: the API server sends no HTTP-date, and a
	 * date would tie the wait to the wall clock. */
	if (i == end)
		return -1;
	for (; i < end; i++) {
		if (value[i] < '0' || value[i] > '9')
			return -1;
		/* Past the cap the value no longer matters: no overflow. */
		if (s <= KUBE_RETRY_AFTER_MAX_MS / 1000)
			s = s * 10 + (value[i] - '0');
	}
	*ms = s > KUBE_RETRY_AFTER_MAX_MS / 1000 ? KUBE_RETRY_AFTER_MAX_MS : s * 1000;
	return 0;
}

bool kube_retry_after_delay(long status, const char *value, size_t len, unsigned int attempts,
                            int64_t *delay_ms)
{
	int64_t ms;

	if (status != 429 && (status < 500 || status > 599))
		return false;
	if (attempts >= KUBE_RETRY_AFTER_MAX_TRIES)
		return false;
	if (kube_retry_after_parse(value, len, &ms) != 0)
		return false;
	*delay_ms = ms;
	return true;
}
