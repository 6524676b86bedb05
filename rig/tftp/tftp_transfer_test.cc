#include "rig/tftp/tftp_transfer.h"

#include <gtest/gtest.h>

namespace crossrig::rig::tftp {
namespace {

using std::chrono::milliseconds;
const Clock::time_point t0{};

TransferConfig config(std::uint64_t size, std::uint16_t blksize = 512, std::uint16_t window = 1,
                      std::vector<Option> oack = {}) {
  TransferConfig c;
  c.size = size;
  c.params.blksize = blksize;
  c.params.windowsize = window;
  c.params.oack = std::move(oack);
  c.max_retries = 3;
  return c;
}

Send ack(ReadTransfer& t, std::uint16_t block, Clock::time_point now = t0) {
  return t.on_packet(encode(Ack{block}), now);
}

void expect_blocks(const Send& s, std::uint64_t first, std::uint64_t count) {
  EXPECT_TRUE(s.control.empty());
  EXPECT_EQ(s.first_block, first);
  EXPECT_EQ(s.count, count);
}

TEST(TftpTransfer, LockstepWithoutOptions) {
  ReadTransfer t(config(1200), t0);
  EXPECT_EQ(t.blocks(), 3u);
  expect_blocks(t.start(t0), 1, 1);
  expect_blocks(ack(t, 1), 2, 1);
  expect_blocks(ack(t, 2), 3, 1);
  EXPECT_EQ(t.block_offset(3), 1024u);
  EXPECT_EQ(t.block_length(3), 176u);
  EXPECT_EQ(ack(t, 3).count, 0u);
  EXPECT_EQ(t.status(), Status::kDone);
  EXPECT_EQ(t.acked_bytes(), 1200u);
}

TEST(TftpTransfer, EmptyFileAndExactMultipleEndWithAnEmptyBlock) {
  ReadTransfer empty(config(0), t0);
  EXPECT_EQ(empty.blocks(), 1u);
  EXPECT_EQ(empty.block_length(1), 0u);
  ReadTransfer exact(config(1024), t0);
  EXPECT_EQ(exact.blocks(), 3u);
  EXPECT_EQ(exact.block_length(2), 512u);
  EXPECT_EQ(exact.block_length(3), 0u);
}

TEST(TftpTransfer, OackFirstThenDataAfterAckZero) {
  ReadTransfer t(config(3000, 1468, 1, {{"blksize", "1468"}}), t0);
  Send s = t.start(t0);
  EXPECT_EQ(s.control, encode(Oack{{{"blksize", "1468"}}}));
  EXPECT_EQ(s.count, 0u);
  EXPECT_EQ(ack(t, 5).count, 0u);  // not an answer to the OACK
  expect_blocks(ack(t, 0), 1, 1);
}

TEST(TftpTransfer, DuplicateAndWrongAcksSendNothing) {
  ReadTransfer t(config(5000), t0);
  t.start(t0);
  expect_blocks(ack(t, 1), 2, 1);
  EXPECT_EQ(ack(t, 1).count, 0u);  // the Sorcerer's Apprentice would resend block 2 here
  EXPECT_EQ(ack(t, 0).count, 0u);
  EXPECT_EQ(ack(t, 7).count, 0u);
  EXPECT_EQ(ack(t, 60000).count, 0u);
  EXPECT_EQ(t.on_packet(std::vector<std::uint8_t>{0, 4, 0}, t0).count, 0u);
  EXPECT_EQ(t.on_packet(encode(Data{2, {}}), t0).count, 0u);
  EXPECT_EQ(t.status(), Status::kRunning);
  expect_blocks(ack(t, 2), 3, 1);
}

TEST(TftpTransfer, TimeoutsRetransmitWithBackoffThenGiveUp) {
  ReadTransfer t(config(5000), t0);
  t.start(t0);
  EXPECT_EQ(t.deadline(), t0 + milliseconds(1000));
  expect_blocks(t.on_timeout(t0 + milliseconds(1000)), 1, 1);
  EXPECT_EQ(t.deadline(), t0 + milliseconds(3000));
  expect_blocks(t.on_timeout(t0 + milliseconds(3000)), 1, 1);
  EXPECT_EQ(t.deadline(), t0 + milliseconds(7000));
  expect_blocks(t.on_timeout(t0 + milliseconds(7000)), 1, 1);
  EXPECT_EQ(t.retransmits(), 3u);
  EXPECT_EQ(t.on_timeout(t0 + milliseconds(15000)).count, 0u);
  EXPECT_EQ(t.status(), Status::kFailed);
  EXPECT_EQ(t.failure(), "no ACK after 3 retransmissions");
}

TEST(TftpTransfer, ProgressResetsTheBackoff) {
  ReadTransfer t(config(5000), t0);
  t.start(t0);
  t.on_timeout(t0 + milliseconds(1000));
  ack(t, 1, t0 + milliseconds(1500));
  EXPECT_EQ(t.deadline(), t0 + milliseconds(2500));
}

TEST(TftpTransfer, OackIsRetransmittedOnTimeout) {
  ReadTransfer t(config(10, 512, 1, {{"tsize", "10"}}), t0);
  t.start(t0);
  Send s = t.on_timeout(t0 + milliseconds(1000));
  EXPECT_EQ(s.control, encode(Oack{{{"tsize", "10"}}}));
}

TEST(TftpTransfer, WindowsAdvanceOnTheLastAckAndRestartAfterAGap) {
  ReadTransfer t(config(512 * 40, 512, 16, {{"windowsize", "16"}}), t0);
  t.start(t0);
  expect_blocks(ack(t, 0), 1, 16);
  expect_blocks(ack(t, 16), 17, 16);
  // The client saw up to block 20 only: the next window starts after it.
  expect_blocks(ack(t, 20), 21, 16);
  EXPECT_EQ(ack(t, 20).count, 0u);
  expect_blocks(ack(t, 36), 37, 5);  // 41 blocks: the last one empty
  EXPECT_EQ(ack(t, 41).count, 0u);
  EXPECT_EQ(t.status(), Status::kDone);
}

TEST(TftpTransfer, WindowTimeoutResendsFromTheFirstUnackedBlock) {
  ReadTransfer t(config(512 * 40, 512, 8), t0);
  expect_blocks(t.start(t0), 1, 8);
  expect_blocks(t.on_timeout(t0 + milliseconds(1000)), 1, 8);
  expect_blocks(ack(t, 3), 4, 8);
}

TEST(TftpTransfer, BlockNumbersWrapToZero) {
  ReadTransfer t(config(8ull * 70000, 8), t0);
  EXPECT_EQ(ReadTransfer::wire_number(65535), 65535);
  EXPECT_EQ(ReadTransfer::wire_number(65536), 0);
  EXPECT_EQ(ReadTransfer::wire_number(65537), 1);
  t.start(t0);
  for (std::uint64_t i = 1; i < 65540; ++i) {
    Send s = ack(t, ReadTransfer::wire_number(i));
    ASSERT_EQ(s.first_block, i + 1);
  }
  EXPECT_EQ(t.acked_bytes(), 8ull * 65539);
}

TEST(TftpTransfer, ClientErrorEndsTheTransfer) {
  ReadTransfer t(config(5000), t0);
  t.start(t0);
  t.on_packet(encode(Error{ErrorCode::kDiskFull, "disk full"}), t0);
  EXPECT_EQ(t.status(), Status::kFailed);
  EXPECT_EQ(t.failure(), "client sent error 3: disk full");
}

}  // namespace
}  // namespace crossrig::rig::tftp
