/* ckpt-example-self: a program that checkpoints itself, as an MPI rank or a long batch job
 * does through libckpt and ckpt service.
 *
 *   ckpt-example-self --address SOCKET --images DIR
 *
 * Counts: prints "count N" every second, and nothing else on stdout or stderr while all goes
 * well. After each line it asks the service to checkpoint it into DIR/N/ (it runs on), then
 * points DIR/latest at N. Killed and restored from DIR/latest, the restored copy learns so
 * from the same call, points DIR/latest at its image again, removes the images the killed
 * copy took later (their timeline ended), and counts on from N. */
#include <errno.h>
#include <ftw.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "engine/api/ckpt.h"

static const char* images;

static void usage(const char* why) {
  fprintf(stderr, "ckpt-example-self: %s\nusage: ckpt-example-self --address SOCKET --images DIR\n",
          why);
  exit(2);
}

/* DIR/latest -> N, replaced in one rename so that a reader never sees it missing. */
static int point_latest(long n) {
  char target[32], tmp[PATH_MAX], latest[PATH_MAX];
  snprintf(target, sizeof target, "%ld", n);
  snprintf(tmp, sizeof tmp, "%s/.latest.%ld", images, (long)getpid());
  snprintf(latest, sizeof latest, "%s/latest", images);
  unlink(tmp);
  if (symlink(target, tmp) != 0 || rename(tmp, latest) != 0) {
    fprintf(stderr, "ckpt-example-self: pointing %s at %s: %s\n", latest, target, strerror(errno));
    return -1;
  }
  return 0;
}

static int remove_entry(const char* path, const struct stat* st, int flag, struct FTW* ftw) {
  (void)st;
  (void)flag;
  (void)ftw;
  return remove(path);
}

/* Removes DIR/M for every M > n: images of a timeline a restore abandoned. */
static void forget_after(long n) {
  for (long m = n + 1;; ++m) {
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/%ld", images, m);
    if (access(path, F_OK) != 0) return;
    nftw(path, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
  }
}

int main(int argc, char** argv) {
  const char* address = NULL;
  for (int i = 1; i < argc; ++i) {
    if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
      printf("usage: ckpt-example-self --address SOCKET --images DIR\n"
             "Prints \"count N\" every second and checkpoints itself through the ckpt service at\n"
             "SOCKET into DIR/N after each line (DIR/latest: the newest). Restored from an\n"
             "image it counts on from there.\n");
      return 0;
    }
    if (i + 1 == argc) usage("an option without its value");
    if (strcmp(argv[i], "--address") == 0) {
      address = argv[++i];
    } else if (strcmp(argv[i], "--images") == 0) {
      images = argv[++i];
    } else {
      usage("unknown option");
    }
  }
  if (address == NULL || images == NULL) usage("--address and --images are required");
  if (mkdir(images, 0755) != 0 && errno != EEXIST) {
    fprintf(stderr, "ckpt-example-self: creating %s: %s\n", images, strerror(errno));
    return 1;
  }

  struct ckpt_opts opts;
  ckpt_opts_init(&opts);
  opts.leave_running = true;
  for (long n = 1;; ++n) {
    printf("count %ld\n", n);
    fflush(stdout);
    char dir[PATH_MAX];
    snprintf(dir, sizeof dir, "%s/%ld", images, n);
    opts.images_dir = dir;
    bool restored = false;
    if (ckpt_dump_self(address, &opts, &restored) != CKPT_OK) {
      fprintf(stderr, "ckpt-example-self: checkpoint %ld: %s\n", n, ckpt_last_error());
    } else {
      if (restored) forget_after(n);
      point_latest(n);
    }
    struct timespec second = {1, 0};
    while (nanosleep(&second, &second) != 0 && errno == EINTR) {
    }
  }
}
