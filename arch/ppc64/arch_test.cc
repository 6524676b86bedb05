#include "arch/arch.h"

#include <gtest/gtest.h>

#include <vector>

#include "arch/regs.h"

namespace crossrig::arch {
namespace {

const Arch& ppc() {
  return *find_arch("ppc64");
}

constexpr std::uint64_t kSo = 0x10000000, kTrapSc = 0xc00, kTrapScv = 0x3000;

TEST(Ppc64, SyscallTableIsTheNospu64BitOne) {
  EXPECT_EQ(syscall_nr(ppc(), "restart_syscall"), 0);
  EXPECT_EQ(syscall_nr(ppc(), "read"), 3);
  EXPECT_EQ(syscall_nr(ppc(), "mmap"), 90);
  EXPECT_EQ(syscall_nr(ppc(), "rt_sigreturn"), 172);
  EXPECT_EQ(syscall_nr(ppc(), "clone3"), 435);
  // "32"-only entries stay out of the 64-bit table.
  EXPECT_THROW(syscall_nr(ppc(), "mmap2"), std::runtime_error);
  EXPECT_THROW(syscall_nr(ppc(), "fcntl64"), std::runtime_error);
}

TEST(Ppc64, BigEndianScAnd64KPages) {
  EXPECT_EQ(ppc().endian, Endian::kBig);
  EXPECT_EQ(std::vector<std::uint8_t>(ppc().syscall_insn.begin(), ppc().syscall_insn.end()),
            (std::vector<std::uint8_t>{0x44, 0x00, 0x00, 0x02}));
  EXPECT_EQ(ppc().page_size, 65536u);
}

TEST(Ppc64, RegistersSitInPtRegsBigEndian) {
  EXPECT_EQ(regs_size(ppc()), 384u);
  Regs r(ppc());
  r.set("nip", 0x10001234);
  EXPECT_EQ(r.bytes()[256 + 7], 0x34);
  EXPECT_EQ(r.bytes()[256 + 6], 0x12);
  EXPECT_EQ(r.bytes()[256 + 4], 0x10);
  EXPECT_EQ(r.bytes()[256], 0x00);
  r.set("trap", 0xc00);
  EXPECT_EQ(r.bytes()[320 + 6], 0x0c);
  r.set("gpr13", 0x7fffb0007010);
  EXPECT_EQ(r.get("gpr13"), 0x7fffb0007010u);
  std::uint64_t v = 0x1000;
  for (const RegDesc& d : ppc().gp_regs)
    r.set(d.name, v += 0x0101010101);
  v = 0x1000;
  for (const RegDesc& d : ppc().gp_regs)
    EXPECT_EQ(r.get(d.name), v += 0x0101010101) << d.name;
}

TEST(Ppc64, ErrorsComeBackAsPositiveErrnoWithCr0So) {
  Regs r(ppc());
  r.set("gpr3", 22);
  EXPECT_EQ(r.syscall_ret(), 22);
  r.set("ccr", 0x20000000 | kSo);
  EXPECT_EQ(r.syscall_ret(), -22);
}

// A task stopped in get_signal() after sc failed with code: gpr3 = code, CR0.SO set.
Regs stopped_after_sc(std::int64_t code) {
  Regs r(ppc());
  r.set("trap", kTrapSc);
  r.set("nip", 0x10000104);
  r.set("gpr0", 162);  // nanosleep
  r.set("orig_gpr3", 0x7ffff000);
  r.set("gpr3", static_cast<std::uint64_t>(code));
  r.set("ccr", 0x40000000 | kSo);
  return r;
}

TEST(Ppc64, RestartCodesRewindToTheScWithTheFirstArgument) {
  for (std::int64_t code : {512, 513, 514}) {
    for (RestartTarget t : {RestartTarget::kSameTask, RestartTarget::kNewTask}) {
      Regs r = stopped_after_sc(code);
      ppc().restart_fixup(r, t);
      EXPECT_EQ(r.pc(), 0x10000100u) << code;
      EXPECT_EQ(r.get("gpr3"), 0x7ffff000u) << code;
      EXPECT_EQ(r.get("gpr0"), 162u) << code;
      EXPECT_EQ(r.get("ccr") & kSo, 0u) << code;
      EXPECT_EQ(r.get("ccr") & 0x40000000, 0x40000000u) << code << ": other CR bits kept";
    }
  }
}

TEST(Ppc64, RestartBlockUsesRestartSyscallOnlyInTheSameTask) {
  Regs same = stopped_after_sc(516);
  ppc().restart_fixup(same, RestartTarget::kSameTask);
  EXPECT_EQ(same.get("gpr0"), 0u);  // restart_syscall
  EXPECT_EQ(same.pc(), 0x10000100u);
  Regs fresh = stopped_after_sc(516);
  ppc().restart_fixup(fresh, RestartTarget::kNewTask);
  EXPECT_EQ(fresh.syscall_ret(), -4);
  EXPECT_EQ(fresh.get("gpr3"), 4u);
  EXPECT_EQ(fresh.pc(), 0x10000104u);
}

TEST(Ppc64, ScvReportsNegativeErrnos) {
  Regs r = stopped_after_sc(0);
  r.set("trap", kTrapScv);
  r.set("ccr", 0);
  r.set("gpr3", static_cast<std::uint64_t>(-512));
  ppc().restart_fixup(r, RestartTarget::kNewTask);
  EXPECT_EQ(r.pc(), 0x10000100u);
  EXPECT_EQ(r.get("gpr3"), 0x7ffff000u);
  Regs block = stopped_after_sc(0);
  block.set("trap", kTrapScv);
  block.set("ccr", 0);
  block.set("gpr3", static_cast<std::uint64_t>(-516));
  ppc().restart_fixup(block, RestartTarget::kNewTask);
  EXPECT_EQ(block.get_signed("gpr3"), -4);
  EXPECT_EQ(block.get("ccr") & kSo, 0u);
}

TEST(Ppc64, NothingToRestartNoChange) {
  std::vector<Regs> cases;
  cases.push_back(stopped_after_sc(512));
  cases.back().set("ccr", 0);  // 512 returned as a success, not an error
  cases.push_back(stopped_after_sc(512));
  cases.back().set("trap", 0x500);  // an external interrupt, not a syscall
  cases.push_back(stopped_after_sc(512));
  cases.back().set("trap", kTrapSc | 1);  // the kernel already handled the restart
  cases.push_back(stopped_after_sc(4));   // a plain EINTR
  for (Regs& r : cases) {
    Regs before = r;
    ppc().restart_fixup(r, RestartTarget::kNewTask);
    EXPECT_EQ(std::vector<std::uint8_t>(r.bytes().begin(), r.bytes().end()),
              std::vector<std::uint8_t>(before.bytes().begin(), before.bytes().end()))
        << "trap " << before.get("trap") << " gpr3 " << before.get("gpr3");
  }
}

TEST(Ppc64, InjectionClearsTheTrapSoNoRestartHappens) {
  Regs r = stopped_after_sc(512);
  const std::uint64_t args[] = {0, 65536};
  r.set_syscall(syscall_nr(ppc(), "munmap"), args);
  EXPECT_EQ(r.get("trap"), 0u);
  EXPECT_EQ(r.get("gpr0"), 91u);
  EXPECT_EQ(r.get("gpr4"), 65536u);
}

}  // namespace
}  // namespace crossrig::arch
