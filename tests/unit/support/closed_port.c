#include "closed_port.h"

#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

struct kube_config *test_closed_port_config(void)
{
	/* Bind a port and close it again: nothing listens there. */
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t alen = sizeof(a);
	cr_assert_eq(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	cr_assert_eq(getsockname(fd, (struct sockaddr *)&a, &alen), 0);
	close(fd);
	struct kube_config *cfg = calloc(1, sizeof(*cfg));
	char server[64];
	snprintf(server, sizeof(server), "https://127.0.0.1:%d", ntohs(a.sin_port));
	cfg->server = strdup(server);
	return cfg;
}
