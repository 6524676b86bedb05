#pragma once
// TCP and UDP sockets over IPv4 and IPv6. Listening and bound sockets are made again from their
// addresses and options; an established TCP connection (only with --tcp-established, as in
// CRIU) is read and made again in the kernel's repair mode (TCP_REPAIR): sequence numbers, the
// bytes queued both ways, negotiated options and window, with no packet exchanged. The dump
// leaves such a socket in repair mode while it runs, so that killing the tree closes it
// without a FIN or RST to the peer; a dump that fails or leaves the tree running takes it
// out of repair mode again.

#include <sys/types.h>

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "common/unique_fd.h"
#include "engine/image.h"
#include "engine/task_image.h"

namespace crossrig::engine {

/// The dump's side.
class InetSocketTable {
 public:
  explicit InetSocketTable(bool tcp_established) : tcp_established_(tcp_established) {}
  InetSocketTable(const InetSocketTable&) = delete;
  InetSocketTable& operator=(const InetSocketTable&) = delete;
  /// Takes connections out of repair mode unless let_connections_die() was called.
  ~InetSocketTable();

  /// Registers the socket behind pid's fd; returns its FilesImage::inet_sockets index.
  int add(pid_t pid, int fd);
  /// Reads every registered socket once the tree is held; a connection's queued bytes go to
  /// data. Throws kUnsupported naming a socket ckpt cannot make again (another protocol or
  /// TCP state, an established connection without --tcp-established, datagrams or
  /// connections waiting).
  std::vector<InetSocketImage> read(PagesWriter& data);
  /// The tree is about to be killed: its connections stay in repair mode and close silently.
  void let_connections_die() { die_ = true; }

 private:
  struct Held {
    pid_t pid;
    int fd;
  };
  bool tcp_established_;
  bool die_ = false;
  std::vector<Held> held_;
  std::vector<UniqueFd> repaired_;  ///< ckpt's copies of the connections in repair mode.
};

/// Throws kBadImage unless every socket's addresses parse and its queues lie in files-data.img.
void check_inet_sockets(const FilesImage& files, std::size_t data_size);

/// Makes every socket of the image again: bound, listening, connected or repaired.
std::vector<UniqueFd> make_inet_sockets(const std::vector<InetSocketImage>& sockets,
                                        std::span<const std::uint8_t> files_data);

}  // namespace crossrig::engine
