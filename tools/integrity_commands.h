#ifndef CASETRAIL_TOOLS_INTEGRITY_COMMANDS_H_
#define CASETRAIL_TOOLS_INTEGRITY_COMMANDS_H_

// The casetrail CLI's integrity commands (docs/integrity.md): checkpoint, key,
// prove and verify. Each takes the CLI's positional arguments (args[1] is the
// command) and returns the exit status.

#include <memory>
#include <string>
#include <vector>

#include "grpcpp/grpcpp.h"

namespace casetrail::tools {

// Usage lines for the CLI's help.
extern const char kIntegrityUsage[];

int CheckpointCommand(const std::shared_ptr<grpc::Channel>& channel,
                      const std::vector<std::string>& args);
int KeyCommand(const std::shared_ptr<grpc::Channel>& channel,
               const std::vector<std::string>& args);
int ProveCommand(const std::shared_ptr<grpc::Channel>& channel,
                 const std::vector<std::string>& args);
// Offline: never contacts a server.
int VerifyCommand(const std::vector<std::string>& args);

}  // namespace casetrail::tools

#endif  // CASETRAIL_TOOLS_INTEGRITY_COMMANDS_H_
