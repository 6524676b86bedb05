/* The tracee of libckpt's tests: `tick_counter COUNT_FILE STOP_FILE` counts the SIGUSR1s it
 * gets and writes the count to COUNT_FILE after each; once STOP_FILE exists it exits with the
 * count as its status. Its whole state is one number, so a restore that lost or replayed
 * anything shows in the file or the status. */
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t ticks;

static void on_tick(int sig) {
  (void)sig;
  ticks = ticks + 1;
}

int main(int argc, char** argv) {
  if (argc != 3) return 2;
  int fd = open(argv[1], O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) return 2;
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_tick;
  sa.sa_flags = SA_RESTART;
  if (sigaction(SIGUSR1, &sa, NULL) != 0) return 2;
  long written = -1;
  for (;;) {
    const long now = ticks;
    if (now != written) {
      /* Fixed width at offset 0: each write replaces the whole number, never leaving a shorter
       * one beside the tail of a longer. */
      char line[24];
      const int n = snprintf(line, sizeof line, "%20ld\n", now);
      if (pwrite(fd, line, (size_t)n, 0) != n) return 2;
      written = now;
    }
    if (access(argv[2], F_OK) == 0) return (int)(now & 0x7f);
    const struct timespec pause = {0, 2000000};
    nanosleep(&pause, NULL);
  }
}
