#include "rig/matrix/matrix_view.h"

#include <algorithm>
#include <set>

#include "rig/inventory/vocabulary.h"

namespace crossrig::rig::matrix {
namespace {

bool passing(Status s) {
  return s == Status::kPass;
}
bool broken(Status s) {
  return s == Status::kFail || s == Status::kError || s == Status::kMiss;
}

/// Known arches in the order of the arch table, then anything else by name.
int arch_rank(const std::string& arch) {
  const auto a = parse_arch(arch);
  return a ? static_cast<int>(*a) : 100;
}

const TestResult* find_test(const BoardRun& run, const std::string& test) {
  for (const auto& t : run.tests) {
    if (t.name == test) return &t;
  }
  return nullptr;
}

struct Dated {
  std::string date;
  Status status;
};

/// The test's status on the board in every night that has the board, oldest first: what the
/// job reported, or kMiss once the board has reported the test in an earlier night.
std::vector<Dated> history_of(std::span<const Night* const> nights, const std::string& board,
                              const std::string& test) {
  std::vector<Dated> out;
  bool seen = false;
  for (const Night* n : nights) {
    const BoardRun* run = n->find(board);
    if (!run) continue;
    if (const TestResult* t = find_test(*run, test)) {
      seen = true;
      out.push_back({n->date, t->status});
    } else if (seen) {
      out.push_back({n->date, Status::kMiss});
    }
  }
  return out;
}

Cell cell_of(const std::vector<Dated>& h, const BoardRun& run, const std::string& test) {
  Cell c;
  c.status = h.back().status;
  if (h.size() >= 2) c.previous = h[h.size() - 2].status;
  c.regression = c.previous && passing(*c.previous) && broken(c.status);
  c.fixed = c.previous && broken(*c.previous) && passing(c.status);
  if (broken(c.status)) {
    auto first = h.rbegin();
    while (std::next(first) != h.rend() && broken(std::next(first)->status))
      ++first;
    c.failing_since = first->date;
  }
  for (auto it = h.rbegin() + 1; it < h.rend(); ++it) {
    if (passing(it->status)) {
      c.last_pass = it->date;
      break;
    }
  }
  c.log = run.console_log;
  if (const TestResult* t = find_test(run, test)) {
    c.measurement = t->measurement;
    c.units = t->units;
  }
  return c;
}

bool is_rate(const std::string& units) {
  return units.size() > 2 && units.compare(units.size() - 2, 2, "/s") == 0;
}

/// A series per arch, or per arch and board where tonight has several boards of one arch.
std::string series_key(const BoardRun& run, const std::vector<Column>& columns) {
  const auto same_arch = std::count_if(columns.begin(), columns.end(),
                                       [&](const Column& c) { return c.arch == run.arch; });
  return same_arch > 1 ? run.arch + " " + run.board : run.arch;
}

std::vector<Trend> trends_of(std::span<const Night* const> nights,
                             const std::vector<Column>& columns) {
  Trend boot{"boot time (power-on to the job's start)", "s", {}};
  std::map<std::string, Trend> rates;
  for (const Night* n : nights) {
    for (const auto& run : n->boards) {
      const std::string key = series_key(run, columns);
      if (run.firmware_s && run.kernel_s) {
        boot.series[key].push_back({n->date, *run.firmware_s + *run.kernel_s});
      }
      for (const auto& t : run.tests) {
        if (!t.measurement || !is_rate(t.units)) continue;
        Trend& trend = rates[t.name];
        trend.title = t.name;
        trend.units = t.units;
        trend.series[key].push_back({n->date, *t.measurement});
      }
    }
  }
  std::vector<Trend> out;
  if (!boot.series.empty()) out.push_back(std::move(boot));
  for (auto& [name, trend] : rates)
    out.push_back(std::move(trend));
  return out;
}

}  // namespace

const Cell* MatrixView::cell(const std::string& test, const std::string& board) const {
  const auto it = cells.find({test, board});
  return it == cells.end() ? nullptr : &it->second;
}

MatrixView analyze(const Night& tonight, std::span<const Night> earlier) {
  std::vector<const Night*> nights;
  for (const auto& n : earlier) {
    if (n.date < tonight.date) nights.push_back(&n);
  }
  std::sort(nights.begin(), nights.end(),
            [](const Night* a, const Night* b) { return a->date < b->date; });
  nights.push_back(&tonight);

  MatrixView view;
  view.date = tonight.date;
  for (const Night* n : nights)
    view.nights.push_back(n->date);
  for (const auto& run : tonight.boards) {
    Column c{run.board, run.arch, run.boot, run.result, run.error, run.console_log, std::nullopt};
    if (run.firmware_s && run.kernel_s) c.boot_seconds = *run.firmware_s + *run.kernel_s;
    view.columns.push_back(std::move(c));
  }
  std::stable_sort(view.columns.begin(), view.columns.end(), [](const Column& a, const Column& b) {
    const int ra = arch_rank(a.arch), rb = arch_rank(b.arch);
    if (ra != rb) return ra < rb;
    if (a.arch != b.arch) return a.arch < b.arch;
    return a.board < b.board;
  });

  std::set<std::string> tests;
  for (const auto& run : tonight.boards) {
    std::set<std::string> names;
    for (const Night* n : nights) {
      if (const BoardRun* r = n->find(run.board)) {
        for (const auto& t : r->tests)
          names.insert(t.name);
      }
    }
    for (const auto& name : names) {
      const auto h = history_of(nights, run.board, name);
      if (h.empty() || h.back().date != tonight.date) continue;
      Cell c = cell_of(h, run, name);
      switch (c.status) {
        case Status::kPass:
          ++view.passed;
          break;
        case Status::kFail:
          ++view.failed;
          break;
        case Status::kSkip:
          ++view.skipped;
          break;
        case Status::kError:
          ++view.errors;
          break;
        case Status::kMiss:
          ++view.missing;
          break;
      }
      view.regressions += c.regression;
      view.fixes += c.fixed;
      view.cells.emplace(std::make_pair(name, run.board), std::move(c));
      tests.insert(name);
    }
  }
  view.tests.assign(tests.begin(), tests.end());
  view.trends = trends_of(nights, view.columns);
  return view;
}

}  // namespace crossrig::rig::matrix
