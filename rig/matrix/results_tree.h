#pragma once

#include <map>
#include <string>
#include <vector>

#include "rig/matrix/night.h"

namespace crossrig::rig::matrix {

/// True for a night directory's name: YYYY-MM-DD.
bool is_night_name(const std::string& name);

/// The nights under root dated before date, each read from its results.json. A night that
/// cannot be read is left out and named in warnings, so one damaged night never stops a run.
std::vector<Night> earlier_nights(const std::string& root, const std::string& date,
                                  std::vector<std::string>& warnings);

/// A fresh directory root/.DATE.partial-PID where a run writes its night; after a crash it is
/// removed by the next run (remove_abandoned), never taken for a night.
std::string make_partial_dir(const std::string& root, const std::string& date);

/// Removes the partial directories of runs whose process is gone.
void remove_abandoned(const std::string& root);

/// Makes partial root/DATE, replacing an earlier run of the same date: readers see the old
/// night or the new one, never a mixture. Returns root/DATE.
std::string publish_night(const std::string& root, const std::string& date,
                          const std::string& partial);

/// Writes path through a temporary file and a rename.
void write_file_atomically(const std::string& path, const std::string& text);

/// The dates to remove so that only the newest keep nights remain (dates: any order).
std::vector<std::string> nights_beyond(std::vector<std::string> dates, int keep);

/// One kernel kept in root/kernels/BOARD/: the file's name (SHA12-NAME) and the newest night
/// that booted it ("" when no night kept refers to it).
struct KeptKernel {
  std::string file, last_used;
};

/// The kernel files to remove from one board's folder so the keep most recently booted stay;
/// files no kept night booted go first.
std::vector<std::string> kernels_beyond(std::vector<KeptKernel> kernels, int keep);

/// The file name a booted kernel is kept under: the first 12 hex digits of its SHA-256, '-',
/// its own name.
std::string kept_kernel_name(const std::string& sha256, const std::string& path);

/// SHA-256 of a file's contents in hex; throws std::runtime_error naming the file.
std::string file_sha256(const std::string& path);

/// What nightly retention removed.
struct Pruned {
  std::vector<std::string> nights, kernels;
};

/// Keeps each board's kernel of night (hard link, else copy) under root/kernels/BOARD/, then
/// removes all but the newest keep_nights nights and, per board, all but the keep_kernels
/// kernels booted most recently by the nights kept.
Pruned keep_and_prune(const std::string& root, const Night& night, int keep_nights,
                      int keep_kernels);

}  // namespace crossrig::rig::matrix
