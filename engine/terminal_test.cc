#include "engine/terminal.h"

#include <gtest/gtest.h>
#include <sys/sysmacros.h>

#include <stdexcept>

namespace crossrig::engine {
namespace {

// /proc/tty/drivers of this kind of machine (kernel 6.18).
constexpr const char* kDrivers =
    "/dev/tty             /dev/tty        5       0 system:/dev/tty\n"
    "/dev/console         /dev/console    5       1 system:console\n"
    "/dev/ptmx            /dev/ptmx       5       2 system\n"
    "/dev/vc/0            /dev/vc/0       4       0 system:vtmaster\n"
    "serial               /dev/ttyS       4      64 serial\n"
    "pty_slave            /dev/pts      136 0-1048575 pty:slave\n"
    "pty_master           /dev/ptm      128 0-1048575 pty:master\n"
    "unknown              /dev/tty        4 1-63 console\n";

TEST(Terminal, DriversNameEveryTerminalDevice) {
  auto drivers = parse_tty_drivers(kDrivers);
  ASSERT_EQ(drivers.size(), 8u);
  const TtyDriver* pts = tty_driver(drivers, 136, 7);
  ASSERT_NE(pts, nullptr);
  EXPECT_EQ(pts->type, "pty:slave");
  ASSERT_NE(tty_driver(drivers, 4, 64), nullptr);
  EXPECT_EQ(tty_driver(drivers, 4, 64)->name, "serial");
  EXPECT_EQ(tty_driver(drivers, 4, 5)->type, "console");
  EXPECT_EQ(tty_driver(drivers, 5, 0)->type, "system:/dev/tty");
  // /dev/null (1:3) and a serial minor no driver claims are no terminals.
  EXPECT_EQ(tty_driver(drivers, 1, 3), nullptr);
  EXPECT_EQ(tty_driver(drivers, 4, 65), nullptr);
}

TEST(Terminal, UnreadableDriverLinesAreRefused) {
  EXPECT_THROW(parse_tty_drivers("pty_slave /dev/pts 136\n"), std::runtime_error);
  EXPECT_THROW(parse_tty_drivers("pty_slave /dev/pts 136 x-9 pty:slave\n"), std::runtime_error);
}

TEST(Terminal, TtyNrDecodesAsTheKernelEncodes) {
  // new_encode_dev: minor low byte, major, then the minor's upper bits from bit 20.
  EXPECT_EQ(tty_nr_device((136u << 8) | 3), makedev(136, 3));
  EXPECT_EQ(tty_nr_device((300u & 0xff) | (136u << 8) | ((300u & ~0xffu) << 12)),
            makedev(136, 300));
  EXPECT_EQ(tty_nr_device((4u << 8) | 64), makedev(4, 64));
}

}  // namespace
}  // namespace crossrig::engine
