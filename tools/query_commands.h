#ifndef CASETRAIL_TOOLS_QUERY_COMMANDS_H_
#define CASETRAIL_TOOLS_QUERY_COMMANDS_H_

// The casetrail CLI's read-model commands (casetrail.v1.CaseQueries):
// chronology, state, pack, decision and projections. Each takes the CLI's
// positional arguments (args[1] is the command) and returns the exit status.

#include <memory>
#include <string>
#include <vector>

#include "grpcpp/grpcpp.h"

namespace casetrail::tools {

// Usage lines for the CLI's help.
extern const char kQueryUsage[];

bool IsQueryCommand(const std::string& command);
int QueryCommand(const std::shared_ptr<grpc::Channel>& channel,
                 const std::vector<std::string>& args);

}  // namespace casetrail::tools

#endif  // CASETRAIL_TOOLS_QUERY_COMMANDS_H_
