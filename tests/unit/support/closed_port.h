/*
 * A client configuration pointing at a loopback port where nothing listens:
 * for unit tests of the API client and the informer that exercise failure,
 * backoff and cancellation without any server.
 */
#ifndef CSR_APPROVER_TEST_CLOSED_PORT_H
#define CSR_APPROVER_TEST_CLOSED_PORT_H

#include "../../../pkg/kube/kube.h"

/* A new configuration (free with kube_config_free()) whose server is
 * https://127.0.0.1:PORT, PORT bound and closed again just before. */
struct kube_config *test_closed_port_config(void);

#endif
