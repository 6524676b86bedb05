#include "engine/task_image.h"

#include <gtest/gtest.h>

#include "engine/ckpt_error.h"

namespace crossrig::engine {
namespace {

TEST(RegsNames, RoundTripThroughJsonOnEveryArch) {
  for (const arch::Arch* a : arch::all_arches()) {
    arch::Regs regs(*a);
    regs.set(a->pc, 0x7f0012345678);
    regs.set(a->sp, 0x7ffd00000010);
    nlohmann::json j = regs_to_names(regs);
    auto back = regs_from_names(*a, j.get<std::map<std::string, std::string>>());
    EXPECT_EQ(back.pc(), 0x7f0012345678u);
    EXPECT_EQ(back.sp(), 0x7ffd00000010u);
    EXPECT_EQ(j[std::string(a->pc)], "0x00007f0012345678");
  }
}

TEST(RegsNames, MissingOrMalformedRegisterIsABadImage) {
  const arch::Arch& a = arch::native_arch();
  auto names = regs_to_names(arch::Regs(a));
  auto missing = names;
  missing.erase(std::string(a.pc));
  try {
    regs_from_names(a, missing);
    FAIL();
  } catch (const CkptError& e) {
    EXPECT_EQ(e.kind(), CkptError::kBadImage);
  }
  auto bad = names;
  bad[std::string(a.sp)] = "0xzz";
  EXPECT_THROW(regs_from_names(a, bad), CkptError);
}

TEST(TaskImageJson, RoundTrip) {
  MmImage mm;
  mm.vmas.push_back({0x1000, 0x3000, 3, false, "anon", "", 0, {"rd", "wr"}});
  mm.brk = 0x5000;
  nlohmann::json j = mm;
  MmImage back = j.get<MmImage>();
  ASSERT_EQ(back.vmas.size(), 1u);
  EXPECT_EQ(back.vmas[0].end, 0x3000u);
  EXPECT_EQ(back.vmas[0].vm_flags[1], "wr");
  EXPECT_EQ(back.brk, 0x5000u);
}

}  // namespace
}  // namespace crossrig::engine
