#pragma once

#include <cstddef>
#include <cstdint>

namespace crossrig::engine {

/// An address in another process's memory, typed by what it points at; never dereferenced.
template <typename T>
class RemotePtr {
 public:
  constexpr RemotePtr() = default;
  constexpr explicit RemotePtr(std::uint64_t addr) : addr_(addr) {}

  constexpr std::uint64_t addr() const { return addr_; }
  constexpr bool null() const { return addr_ == 0; }
  /// The address count elements further on.
  constexpr RemotePtr operator+(std::size_t count) const {
    return RemotePtr(addr_ + count * sizeof(T));
  }
  /// The same address viewed as pointing at a U.
  template <typename U>
  constexpr RemotePtr<U> cast() const {
    return RemotePtr<U>(addr_);
  }
  friend constexpr bool operator==(RemotePtr a, RemotePtr b) { return a.addr_ == b.addr_; }

 private:
  std::uint64_t addr_ = 0;
};

/// An untyped remote address (a byte address).
using RemoteAddr = RemotePtr<std::uint8_t>;

}  // namespace crossrig::engine
