#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace crossrig::rig::matrix {

/// What a build command says it made for one arch.
struct BuiltFiles {
  std::string kernel, ramdisk;
  std::string kernel_release, source;
};

/// Reads a build command's standard output: a JSON manifest object with "kernel" and
/// "ramdisk" (as `toolchains/lab-images --json ARCH` prints, also inside a list, where the
/// entry whose "arch" is arch counts). Anything else (no output, text, a manifest without
/// both files) names no files: the boards then run their inventory jobs.
std::optional<BuiltFiles> parse_build_output(std::string_view out, const std::string& arch);

/// The build command for one arch: every "{arch}" replaced by the arch's name.
std::string build_command_for(std::string command, const std::string& arch);

}  // namespace crossrig::rig::matrix
