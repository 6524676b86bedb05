// bench-transfer [DIR] [SIZES_MIB...]: how much slower an image is when it goes to a page
// server over loopback TLS than when it is written locally. For each size, an image with one
// pages file of that many MiB is written by ImageWriter into DIR (the baseline), then sent
// through ImageSender to a PageServer of this process on 127.0.0.1 that writes it into DIR
// too: the ratio is the cost of TLS 1.3 (AES-GCM), the framing and the server's checks on top
// of the same writes. Medians of 5 runs.
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "bench/harness/stats.h"
#include "common/test_pki.h"
#include "engine/image.h"
#include "engine/image_transfer.h"
#include "engine/page_server.h"

namespace fs = std::filesystem;
using namespace crossrig;
using namespace crossrig::engine;

namespace {

// Writes an image of mib MiB of pages into dir through writer settings; returns seconds.
double write_image(const std::string& dir, std::size_t mib, ImageSender* remote) {
  const std::vector<std::uint8_t> chunk(8 << 20, 0x6b);
  const auto start = std::chrono::steady_clock::now();
  {
    ImageWriter w(dir, remote);
    w.write_json("tree.json", {{"root", 1}});
    PagesWriter pages = w.open_pages("pages-1.img", ImageWriter::Where::kPageServerOnly);
    for (std::size_t done = 0; done < (mib << 20); done += chunk.size())
      pages.append(chunk);
    w.add_pages("pages-1.img", pages);
    w.commit({{"arch", "bench"}});
  }
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

}  // namespace

int main(int argc, char** argv) {
  const fs::path base = fs::path(argc > 1 ? argv[1] : "/dev/shm") /
                        ("crossrig-bench-transfer-" + std::to_string(::getpid()));
  std::vector<std::size_t> sizes;
  for (int i = 2; i < argc; ++i)
    sizes.push_back(std::stoul(argv[i]));
  if (sizes.empty()) sizes = {64, 256};
  fs::create_directories(base / "pki");
  fs::create_directories(base / "server");
  int rc = 0;
  try {
    test_pki::Ca ca(base / "pki", "ca");
    const TlsConfig client = ca.issue("client");
    PageServerOptions o;
    o.listen = {"127.0.0.1", 0};
    o.dir = (base / "server").string();
    o.tls = ca.issue("server");
    PageServer server(o);
    std::thread serving([&] { server.run([](const TransferReport&) {}); });
    std::printf(
        "image of one pages file: local ImageWriter vs sent to a page server on loopback "
        "TLS (server writes it to %s too)\n",
        base.c_str());
    for (const std::size_t mib : sizes) {
      std::vector<double> local, remote;
      for (int run = 0; run < 5; ++run) {
        const std::string name = "img-" + std::to_string(mib) + "-" + std::to_string(run);
        local.push_back(write_image((base / ("local-" + name)).string(), mib, nullptr));
        fs::remove_all(base / ("local-" + name));
        ImageSender sender({"127.0.0.1", server.port()}, client, name);
        remote.push_back(write_image((base / name).string(), mib, &sender));
        fs::remove_all(base / name);
        fs::remove_all(base / "server" / name);
      }
      const bench::Summary l = bench::summarize(local), r = bench::summarize(remote);
      const std::string m = std::to_string(mib) + " MiB";
      std::printf("%s\n", bench::format_row("local write " + m, l, "s", nullptr).c_str());
      std::printf("%s\n", bench::format_row("page server " + m, r, "s", &l).c_str());
      std::printf("  page server throughput: %.0f MiB/s\n", static_cast<double>(mib) / r.median);
    }
    server.stop();
    serving.join();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench-transfer: %s\n", e.what());
    rc = 1;
  }
  fs::remove_all(base);
  return rc;
}
