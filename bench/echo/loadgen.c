// Load generator for the echo benchmark: drives an echo server on
// 127.0.0.1 with epoll, so that the client is never the bottleneck.
//
//   loadgen pingpong PORT CONNECTIONS SECONDS MESSAGE_BYTES
//     each connection sends one message and waits for all of it to come
//     back before sending the next; prints round trips per second.
//   loadgen bulk PORT CONNECTIONS SECONDS CHUNK_BYTES
//     each connection keeps writing and reading as fast as the server
//     echoes; prints MiB/s echoed back.
//
// Output is one line of key=value pairs for the harness to parse.
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

typedef struct {
  int fd;
  size_t to_send;   // bytes of the current message still to write
  size_t to_recv;   // bytes of the current message still to read
  long long sent;   // bulk: bytes written
  long long recvd;  // bytes read
} conn_t;

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int dial(int port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) { perror("socket"); exit(1); }
  struct sockaddr_in addr = {0};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, (struct sockaddr *)&addr, sizeof addr) < 0) { perror("connect"); exit(1); }
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
  return fd;
}

int main(int argc, char **argv) {
  if (argc != 6) {
    fprintf(stderr, "usage: %s pingpong|bulk PORT CONNECTIONS SECONDS BYTES\n", argv[0]);
    return 2;
  }
  int bulk = strcmp(argv[1], "bulk") == 0;
  int port = atoi(argv[2]);
  int n = atoi(argv[3]);
  double seconds = atof(argv[4]);
  size_t size = (size_t)atol(argv[5]);
  if (n < 1 || seconds <= 0 || size < 1) { fprintf(stderr, "bad arguments\n"); return 2; }

  char *out = malloc(size);
  char *in = malloc(size > 65536 ? size : 65536);
  memset(out, 'x', size);
  conn_t *conns = calloc(n, sizeof *conns);
  int ep = epoll_create1(0);
  for (int i = 0; i < n; i++) {
    conns[i].fd = dial(port);
    conns[i].to_send = size;
    conns[i].to_recv = size;
    struct epoll_event ev = {.events = EPOLLIN | EPOLLOUT, .data.ptr = &conns[i]};
    epoll_ctl(ep, EPOLL_CTL_ADD, conns[i].fd, &ev);
  }

  long long round_trips = 0;
  struct epoll_event events[256];
  double start = now(), deadline = start + seconds;
  while (now() < deadline) {
    int k = epoll_wait(ep, events, 256, 100);
    for (int e = 0; e < k; e++) {
      conn_t *c = events[e].data.ptr;
      if (events[e].events & (EPOLLERR | EPOLLHUP)) { fprintf(stderr, "connection closed\n"); return 1; }
      if ((events[e].events & EPOLLOUT) && c->to_send > 0) {
        ssize_t w = write(c->fd, out + (size - c->to_send), c->to_send);
        if (w > 0) {
          c->sent += w;
          c->to_send -= (size_t)w;
          if (bulk && c->to_send == 0) c->to_send = size;  // keep the pipe full
        } else if (w < 0 && errno != EAGAIN) { perror("write"); return 1; }
      }
      if (events[e].events & EPOLLIN) {
        for (;;) {
          ssize_t r = read(c->fd, in, bulk ? 65536 : c->to_recv);
          if (r > 0) {
            c->recvd += r;
            if (!bulk) {
              c->to_recv -= (size_t)r;
              if (c->to_recv == 0) {
                round_trips++;
                c->to_send = size;
                c->to_recv = size;
              }
            }
            if (!bulk) break;
          } else if (r == 0) { fprintf(stderr, "server closed the connection\n"); return 1; }
          else if (errno == EAGAIN) break;
          else { perror("read"); return 1; }
        }
      }
      // Ping-pong: only ask for EPOLLOUT while there is something to send.
      struct epoll_event ev = {.events = EPOLLIN | (c->to_send > 0 ? EPOLLOUT : 0), .data.ptr = c};
      epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev);
    }
  }
  double elapsed = now() - start;
  long long total = 0;
  for (int i = 0; i < n; i++) { total += conns[i].recvd; close(conns[i].fd); }
  if (bulk) {
    printf("mode=bulk seconds=%.3f bytes=%lld mib_per_s=%.1f\n", elapsed, total,
           total / 1048576.0 / elapsed);
  } else {
    printf("mode=pingpong seconds=%.3f round_trips=%lld rt_per_s=%.0f\n", elapsed, round_trips,
           round_trips / elapsed);
  }
  return 0;
}
