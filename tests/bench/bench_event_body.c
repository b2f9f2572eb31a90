/*
 * The Event body csr-approver posts for a decision, on stdout (protobuf,
 * binary): for hack/bench-api-writes.sh, which sends it to kube-apiserver
 * beside the same Event in JSON.
 *
 * Usage: bench_event_body CSR_NAME CSR_UID
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "../../pkg/controller/controller.h"

int main(int argc, char **argv)
{
	if (argc != 3) {
		fprintf(stderr, "usage: bench_event_body CSR_NAME CSR_UID\n");
		return 2;
	}
	struct controller_event ev = {
	    .csr_name = argv[1],
	    .csr_uid = argv[2],
	    .type = "Normal",
	    .reason = "AutoApproved",
	    .message = "csr-approver: policy kubelet-serving: node bench-node-0001, 2 SANs",
	    .instance = "bench_0001",
	};
	size_t n = 0;
	char *body = controller_event_body(&ev, time(NULL), &n);
	int rc = fwrite(body, 1, n, stdout) == n && fflush(stdout) == 0 ? 0 : 1;
	free(body);
	return rc;
}
