#include "engine/synthetic_image.h"

#include "engine/image.h"
#include "engine/task_image.h"

namespace crossrig::engine {

void write_synthetic_image(const std::string& dir, const arch::Regs& regs, std::size_t page_size) {
  const arch::Arch& a = regs.arch();
  if (page_size == 0) page_size = a.page_size;
  constexpr int kPid = 4242;
  const std::string id = std::to_string(kPid);
  ImageWriter w(dir);
  w.write_json(
      "tree.json",
      {{"root", kPid},
       {"processes", {{{"pid", kPid}, {"ppid", 1}, {"zombie", false}, {"threads", {kPid}}}}}});
  TaskImage task;
  task.pid = task.pgid = task.sid = kPid;
  task.ppid = 1;
  task.threads = {kPid};
  task.comm = "synthetic";
  task.cwd = "/";
  task.fds = {{0, 0, false, {}}};
  w.write_json("task-" + id + ".json", task);
  FilesImage files;
  files.files.push_back({"chr", "/dev/null", 0, 0, -1, -1, false, {}, -1});
  w.write_json("files.json", files);
  PagesWriter pipes = w.open_pages("files-data.img");
  w.add_pages("files-data.img", pipes);
  MmImage mm;
  mm.vmas.push_back({0x10000000, 0x10000000 + page_size, 5, false, "anon", "", 0, {"rd", "ex"}});
  w.write_json("mm-" + id + ".json", mm);
  w.write_json("pagemap-" + id + ".json", nlohmann::json::array());
  PagesWriter pages = w.open_pages("pages-" + id + ".img");
  w.add_pages("pages-" + id + ".img", pages);
  CoreImage core;
  core.tid = kPid;
  core.arch = std::string(a.name);
  core.regs = regs_to_names(regs);
  core.creds.uids = core.creds.gids = {1000, 1000, 1000, 1000};
  w.write_json("core-" + id + ".json", core);
  w.commit({{"arch", std::string(a.name)},
            {"endianness", a.endian == arch::Endian::kLittle ? "little" : "big"},
            {"page_size", page_size},
            {"kernel_release", "6.1.0-synthetic"},
            {"root_pid", kPid},
            {"created_by", "synthetic_image"}});
}

}  // namespace crossrig::engine
