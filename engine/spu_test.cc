#include "engine/spu.h"

#include <gtest/gtest.h>
#include <sys/sysmacros.h>

namespace crossrig::engine {
namespace {

// A Cell blade's mountinfo with spufs at /spu (as libspe2 expects it), and the maps of a task
// running one SPU program through libspe2: its context directory spethread-PID-ADDR holds the
// files spufs lets a task map (arch/powerpc/platforms/cell/spufs/file.c): the 256 KiB local
// store "mem", the problem-state "psmap", "cntl" and the two signal notification areas.
constexpr const char* kMountinfo =
    "21 1 8:2 / / rw,relatime shared:1 - ext3 /dev/sda2 rw\n"
    "22 21 0:5 / /dev rw,nosuid shared:2 - devtmpfs devtmpfs rw,size=1011712k\n"
    "23 21 0:20 / /proc rw,nosuid,nodev,noexec,relatime shared:3 - proc proc rw\n"
    "31 21 0:26 / /spu rw,relatime shared:12 - spufs spufs rw,uid=0,gid=0,mode=775\n";

constexpr const char* kMaps =
    "10000000-10010000 r-xp 00000000 08:02 131090     /usr/bin/spe-demo\n"
    "10010000-10020000 rw-p 00000000 08:02 131090     /usr/bin/spe-demo\n"
    "10020000-10050000 rw-p 00000000 00:00 0          [heap]\n"
    "f7f00000-f7f40000 rw-s 00000000 00:1a 4711       /spu/spethread-2345-268566528/mem\n"
    "f7f40000-f7f60000 rw-s 00000000 00:1a 4712       /spu/spethread-2345-268566528/psmap\n"
    "f7f60000-f7f70000 rw-s 00000000 00:1a 4713       /spu/spethread-2345-268566528/cntl\n"
    "fffa0000-fffd0000 rw-p 00000000 00:00 0          [stack]\n";

TEST(Spu, SpufsMountsAreFoundByTheirType) {
  auto devs = spufs_devices(kMountinfo);
  ASSERT_EQ(devs.size(), 1u);
  EXPECT_EQ(*devs.begin(), makedev(0, 26));
}

TEST(Spu, AMappingOnSpufsIsNamed) {
  auto m = spu_mapping(parse_maps(kMaps), spufs_devices(kMountinfo));
  ASSERT_TRUE(m.has_value());
  EXPECT_EQ(*m, "0xf7f00000-0xf7f40000 of /spu/spethread-2345-268566528/mem");
}

// Mountinfo gives device numbers in decimal, maps in hex: 0:26 is 00:1a. A task whose only
// mappings are elsewhere, or a machine without spufs, has nothing to refuse.
TEST(Spu, OtherDevicesAndMachinesWithoutSpufsPass) {
  const char* plain_maps =
      "10000000-10010000 r-xp 00000000 08:02 131090     /usr/bin/spe-demo\n"
      "f7f00000-f7f40000 rw-s 00000000 00:1b 4711       /dev/shm/ring\n";
  EXPECT_FALSE(spu_mapping(parse_maps(plain_maps), spufs_devices(kMountinfo)).has_value());
  std::string no_spufs =
      "21 1 8:2 / / rw,relatime shared:1 - ext3 /dev/sda2 rw\n"
      "31 21 0:26 / /run rw,nosuid shared:12 - tmpfs tmpfs rw,mode=755\n";
  EXPECT_TRUE(spufs_devices(no_spufs).empty());
  EXPECT_FALSE(spu_mapping(parse_maps(kMaps), spufs_devices(no_spufs)).has_value());
}

}  // namespace
}  // namespace crossrig::engine
