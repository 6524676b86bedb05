#include "plugctl/errors.h"

namespace crossrig::plugctl {

PlugError from_net_error(const NetError& e, const std::string& target) {
  switch (e.kind()) {
    case NetError::kTimeout:
      return PlugError(PlugError::kUnreachable,
                       target + ": " + e.what() + "; is the device on and reachable?", true,
                       PlugError::Cause::kTimeout);
    case NetError::kUnreachable:
      return PlugError(PlugError::kUnreachable,
                       std::string(e.what()) + "; check the address and port", false,
                       PlugError::Cause::kRefused);
    case NetError::kClosed:
      return PlugError(
          PlugError::kUnreachable,
          target + ": the device closed the connection before answering (" + e.what() + ")", true);
    case NetError::kAuth:  // The plugs' transports speak no TLS.
    case NetError::kOther:
      break;
  }
  return PlugError(PlugError::kUnreachable, target + ": " + e.what(), true);
}

}  // namespace crossrig::plugctl
