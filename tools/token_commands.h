#ifndef CASETRAIL_TOOLS_TOKEN_COMMANDS_H_
#define CASETRAIL_TOOLS_TOKEN_COMMANDS_H_

// The casetrail CLI's development token commands: `token keygen` makes an
// Ed25519 key pair for signing bearer tokens, and `token issue` signs one
// (security/jwt.h). Both work offline and never contact a server. They stand
// in for an identity provider in demos and tests; production tokens come from
// the real one.

#include <string>
#include <vector>

namespace casetrail::tools {

// Usage lines for the CLI's help.
extern const char kTokenUsage[];

// `casetrail token keygen|issue`: takes the CLI's positional arguments
// (args[1] is "token") and returns the exit status (tools/cli_common.h).
int TokenCommand(const std::vector<std::string>& args);

}  // namespace casetrail::tools

#endif  // CASETRAIL_TOOLS_TOKEN_COMMANDS_H_
