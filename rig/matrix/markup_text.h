#pragma once

#include <string>
#include <string_view>

namespace crossrig::rig::matrix {

/// Text as character data or a double-quoted attribute value of XML and HTML alike. Test names
/// and errors come from the boards' consoles, so they may hold control bytes or broken UTF-8:
/// broken sequences and characters XML 1.0 forbids become U+FFFD (a reader still sees that
/// something was there, and every parser accepts the file); &, <, >, " and ' are escaped; in
/// attributes, tab and line breaks are written as references so parsers do not fold them.
std::string markup_text(std::string_view text, bool attribute = true);

}  // namespace crossrig::rig::matrix
