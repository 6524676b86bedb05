#pragma once
// Unix sockets. The dump finds each socket's peer and the connections waiting in a listener's
// queue through sock_diag, and copies the bytes queued to each socket by peeking (SO_PEEK_OFF
// on ckpt's copy of the socket), which leaves them queued. The restore makes the sockets again in
// ckpt: socketpairs, names bound again (a stale socket file left by the dumped process is
// replaced), listeners with their pending connections connected again in order, accepted
// connections through their listener so they share its name, datagram sockets connected to
// their peers, and each queue refilled by its peer. Descriptors in flight (SCM_RIGHTS) are
// peeked too: the kernel gives ckpt a duplicate of each, checkpointed like a process's fd, and
// the refill sends them again with the same message.

#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "common/unique_fd.h"
#include "engine/image.h"
#include "engine/task_image.h"

namespace crossrig::engine {

/// The dump's side.
class UnixSocketTable {
 public:
  /// Where read() found a descriptor in flight: the socket whose queue holds it, as messages
  /// name it, and the process holding that socket, whose root the descriptor's paths are
  /// seen from.
  struct Queue {
    std::string what;
    pid_t owner = 0;
  };
  /// Takes a descriptor read() found in flight: ckpt's own duplicate of it and its queue.
  /// Returns its FilesImage::files index; may register a socket with add() meanwhile.
  using InFlightAdder = std::function<int(UniqueFd fd, const Queue& queue)>;

  /// Registers the socket (inode ino) behind pid's fd; returns its FilesImage::sockets index.
  /// in_flight: for a socket only ckpt's fd reaches (pid is ckpt), the queue it was found in;
  /// its own queue may not carry descriptors.
  int add(pid_t pid, int fd, std::uint32_t ino, const Queue* in_flight = nullptr);
  /// Reads every registered socket, and the connections waiting in their listeners' queues
  /// (appended after them), once every process of the tree is held; their queued bytes go to
  /// data, the descriptors in flight with them to add_file. Throws kUnsupported naming a
  /// socket ckpt cannot make again: another family, a peer or a pending connection outside
  /// the tree, a socket in flight with descriptors in flight in its own queue.
  std::vector<UnixSocketImage> read(PagesWriter& data, const InFlightAdder& add_file);

 private:
  struct Held {
    pid_t pid;
    int fd;
    std::uint32_t ino;
    std::optional<Queue> in_flight;  ///< Where it is in flight, for one only ckpt holds.
    std::string name() const;        ///< How messages name it.
    pid_t root_pid() const;          ///< The process whose root its name is seen from.
  };
  std::vector<Held> held_;
};

/// Throws kBadImage unless every index of the sockets is in range, their queues lie in
/// files-data.img and the files their messages carry may be in flight.
void check_unix_sockets(const FilesImage& files, std::size_t data_size);

/// ckpt's descriptors on the files of the image that messages carry in flight: fds[i] for
/// files[i], or for a unix socket the one make_unix_sockets makes.
struct InFlightFiles {
  std::span<const FileImage> files;
  std::span<const int> fds;
};

/// Makes every socket of the image again, connected, named and with its queue, each message
/// with its descriptors in flight; returns ckpt's fd on each (empty for a pending connection,
/// which only its listener's queue holds).
std::vector<UniqueFd> make_unix_sockets(const std::vector<UnixSocketImage>& sockets,
                                        std::span<const std::uint8_t> files_data,
                                        InFlightFiles in_flight);

/// How ckpt show prints a socket's address: a path, "@name" for an abstract name.
std::string printable_name(const std::string& name);

}  // namespace crossrig::engine
