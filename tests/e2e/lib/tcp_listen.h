/* SPDX-License-Identifier: MIT */
/* The test servers' listening socket (ssl_clear_server.c, late_close_server.c). */
#ifndef TW_E2E_TCP_LISTEN_H
#define TW_E2E_TCP_LISTEN_H

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <sys/socket.h>

/* A TCP socket listening on IPv4 @addr:@port (SO_REUSEADDR), or -1 (said). */
static int listen_on(const char *addr, int port)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port) };
	int fd = socket(AF_INET, SOCK_STREAM, 0), on = 1;

	if (fd < 0 || inet_pton(AF_INET, addr, &a.sin_addr) != 1 ||
	    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on)) ||
	    bind(fd, (struct sockaddr *)&a, sizeof(a)) || listen(fd, 4)) {
		perror("listen");
		return -1;
	}
	return fd;
}

#endif
