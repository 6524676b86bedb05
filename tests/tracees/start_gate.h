#pragma once
// A gate that holds a tracee's threads between setup and check: each thread sets up its own
// state, arrives and sleeps in a futex wait (pthread_cond_wait) through dump and restore; the
// main thread waits in setup until all have arrived and opens the gate in check.

#include <pthread.h>

namespace crossrig::tracee {

class StartGate {
 public:
  /// Called by a thread once its state is set up; returns when the gate opens.
  void arrive_and_wait() {
    pthread_mutex_lock(&lock_);
    ++arrived_;
    pthread_cond_broadcast(&cond_);
    while (!open_)
      pthread_cond_wait(&cond_, &lock_);
    pthread_mutex_unlock(&lock_);
  }

  /// Returns once n threads have arrived.
  void wait_arrived(int n) {
    pthread_mutex_lock(&lock_);
    while (arrived_ < n)
      pthread_cond_wait(&cond_, &lock_);
    pthread_mutex_unlock(&lock_);
  }

  /// Lets every waiting thread go on.
  void open() {
    pthread_mutex_lock(&lock_);
    open_ = true;
    pthread_cond_broadcast(&cond_);
    pthread_mutex_unlock(&lock_);
  }

 private:
  pthread_mutex_t lock_ = PTHREAD_MUTEX_INITIALIZER;
  pthread_cond_t cond_ = PTHREAD_COND_INITIALIZER;
  int arrived_ = 0;
  bool open_ = false;
};

}  // namespace crossrig::tracee
