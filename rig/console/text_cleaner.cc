#include "rig/console/text_cleaner.h"

namespace crossrig::rig::console {

namespace {
bool is_csi_body(unsigned char c) { return c >= 0x20 && c <= 0x3f; }
bool is_final(unsigned char c) { return c >= 0x40 && c <= 0x7e; }
bool is_kept_control(unsigned char c) { return c == '\n' || c == '\t'; }
}  // namespace

void TextCleaner::feed(std::string_view chunk, std::string& out) {
  for (char ch : chunk) {
    auto c = static_cast<unsigned char>(ch);
    switch (state_) {
      case State::kText:
        if (c == 0x1b) {
          state_ = State::kEsc;
        } else if ((c >= 0x20 && c != 0x7f) || is_kept_control(c)) {
          out.push_back(ch);
        }
        break;
      case State::kEsc:
        if (c == '[') {
          state_ = State::kCsi;
        } else if (c == ']' || c == 'P' || c == 'X' || c == '^' || c == '_') {
          state_ = State::kString;
          string_bytes_ = 0;
        } else if (c >= 0x20 && c <= 0x2f) {
          state_ = State::kEscIntermediate;
        } else if (c == 0x1b) {
          state_ = State::kEsc;
        } else {
          state_ = State::kText;
          if (c < 0x20 && is_kept_control(c)) out.push_back(ch);
        }
        break;
      case State::kEscIntermediate:
        if (c >= 0x20 && c <= 0x2f) break;
        state_ = State::kText;
        if (is_kept_control(c)) out.push_back(ch);
        break;
      case State::kCsi:
        if (is_csi_body(c)) break;
        state_ = State::kText;
        // A broken sequence ends at the first byte that cannot belong to it; that byte is text.
        if (!is_final(c)) {
          if (c == 0x1b) {
            state_ = State::kEsc;
          } else if ((c >= 0x20 && c != 0x7f) || is_kept_control(c)) {
            out.push_back(ch);
          }
        }
        break;
      case State::kString:
        if (c == 0x07) {
          state_ = State::kText;
        } else if (c == 0x1b) {
          state_ = State::kStringEsc;
        } else if (++string_bytes_ > kMaxStringBytes) {
          state_ = State::kText;
          if (c >= 0x20 && c != 0x7f) out.push_back(ch);
        }
        break;
      case State::kStringEsc:
        state_ = c == '\\' ? State::kText : State::kString;
        break;
    }
  }
}

}  // namespace crossrig::rig::console
