/* libckpt from a C program, compiled as C99 with -pedantic: the header is plain C, and a dump
 * with leave_running and a detached restore of the tick counter (tick_counter.c) work.
 * `ckpt_c_test TICK_COUNTER`; prints PASS, or FAIL and why, and exits 0 or 1. */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "engine/api/ckpt.h"

static char g_dir[] = "/tmp/libckpt-c-test.XXXXXX";
static char g_count[sizeof g_dir + 16];
static pid_t g_child;

static int remove_entry(const char* path, const struct stat* st, int flag, struct FTW* ftw) {
  (void)st;
  (void)flag;
  (void)ftw;
  return remove(path);
}

static void clean_up(void) {
  if (g_child > 0) {
    kill(g_child, SIGKILL);
    waitpid(g_child, NULL, 0);
  }
  nftw(g_dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static void fail(const char* what, enum ckpt_status status) {
  (void)fprintf(stderr, "FAIL: %s (status %d: %s)\n", what, (int)status, ckpt_last_error());
  clean_up();
  exit(1);
}

/* Whether the counter writes `want` within 20 seconds (only so that a broken run ends). */
static int count_becomes(long want) {
  for (int i = 0; i < 10000; ++i) {
    char text[32] = {0};
    char* rest = NULL;
    const struct timespec pause = {0, 2000000};
    const int fd = open(g_count, O_RDONLY | O_CLOEXEC);
    if (fd >= 0) {
      if (read(fd, text, sizeof text - 1) < 0) text[0] = 0;
      close(fd);
    }
    if (strtol(text, &rest, 10) == want && rest != text && *rest == '\n') return 1;
    nanosleep(&pause, NULL);
  }
  return 0;
}

static int tick(pid_t pid, long want) {
  kill(pid, SIGUSR1);
  return count_becomes(want);
}

static pid_t start_counter(const char* program) {
  char stop[sizeof g_dir + 16];
  (void)snprintf(stop, sizeof stop, "%s/stop", g_dir);
  const pid_t pid = fork();
  if (pid == 0) {
    /* Nothing of ours: a pipe to ctest would be a pipe to outside the dumped tree. */
    int null = open("/dev/null", O_RDWR);
    dup2(null, 0);
    dup2(null, 1);
    dup2(null, 2);
    closefrom(3);
    execl(program, program, g_count, stop, (char*)NULL);
    _exit(127);
  }
  return pid;
}

static int exit_status(pid_t pid) {
  int status = 0;
  if (waitpid(pid, &status, 0) != pid) return -1;
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

int main(int argc, char** argv) {
  if (argc != 2 || mkdtemp(g_dir) == NULL) return 2;
  (void)snprintf(g_count, sizeof g_count, "%s/count", g_dir);
  char image[sizeof g_dir + 16];
  (void)snprintf(image, sizeof image, "%s/image", g_dir);

  struct ckpt_findings* findings = NULL;
  enum ckpt_status status = ckpt_check(&findings);
  if (status != CKPT_OK || findings == NULL || findings->count == 0)
    fail("ckpt_check found nothing", status);
  ckpt_findings_free(findings);

  const pid_t gone = fork();
  if (gone == 0) _exit(0);
  waitpid(gone, NULL, 0);
  struct ckpt_opts opts;
  ckpt_opts_init(&opts);
  opts.pid = gone;
  opts.images_dir = image;
  status = ckpt_dump(&opts);
  char message[64];
  (void)snprintf(message, sizeof message, "process %d", (int)gone);
  if (status != CKPT_E_SYSTEM || strstr(ckpt_last_error(), message) == NULL)
    fail("the dump of a gone process is no system error naming it", status);

  g_child = start_counter(argv[1]);
  if (!count_becomes(0) || !tick(g_child, 1)) fail("the tick counter does not count", CKPT_OK);
  opts.pid = g_child;
  opts.leave_running = true;
  status = ckpt_dump(&opts);
  if (status != CKPT_OK) fail("ckpt_dump", status);
  if (!tick(g_child, 2)) fail("the process left running does not count on", CKPT_OK);
  kill(g_child, SIGKILL);
  if (exit_status(g_child) != 128 + SIGKILL) fail("the counter did not die", CKPT_OK);

  /* Only a count the restored process writes is read from now on. */
  if (truncate(g_count, 0) != 0) fail("cannot clear the count", CKPT_OK);
  ckpt_opts_init(&opts);
  opts.images_dir = image;
  opts.detach = true;
  pid_t restored = 0;
  int exited = -1;
  status = ckpt_restore(&opts, &restored, &exited);
  if (status != CKPT_OK) fail("ckpt_restore", status);
  if (restored != g_child || exited != 0) fail("the restored root is not the dumped one", status);
  /* The image's count was 1. */
  if (!tick(restored, 2)) fail("the restored process does not count on from its image", status);
  clean_up();
  puts("PASS");
  return 0;
}
