// The benchmark's baseline: a process that only opens a TCP connection to HOST PORT and exits,
// so the ratio shows what plugctl costs beyond starting a process and connecting.
#include <netdb.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdio>

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: bench-tcp-connect HOST PORT\n");
    return 2;
  }
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* ai = nullptr;
  if (getaddrinfo(argv[1], argv[2], &hints, &ai) != 0) return 1;
  int fd = socket(ai->ai_family, SOCK_STREAM, 0);
  int rc = connect(fd, ai->ai_addr, ai->ai_addrlen);
  close(fd);
  freeaddrinfo(ai);
  return rc == 0 ? 0 : 1;
}
