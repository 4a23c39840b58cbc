#ifndef CASETRAIL_PROJECTIONS_CONFIG_FILE_H_
#define CASETRAIL_PROJECTIONS_CONFIG_FILE_H_

// Reading the files a deployment gives the projections (bank holidays,
// timescale rules), with errors that name the file.

#include <fstream>
#include <sstream>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"

namespace casetrail::projections {

// `parse(contents of path)`, its error prefixed with the path. Errors:
// NOT_FOUND if the file cannot be read; parse's.
template <typename T, typename Parse>
absl::StatusOr<T> ParseConfigFile(const std::string& path, Parse parse) {
  std::ifstream in(path);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot read ", path));
  std::stringstream text;
  text << in.rdbuf();
  absl::StatusOr<T> parsed = parse(absl::string_view(text.str()));
  if (!parsed.ok()) {
    return absl::Status(parsed.status().code(),
                        absl::StrCat(path, ": ", parsed.status().message()));
  }
  return parsed;
}

}  // namespace casetrail::projections

#endif  // CASETRAIL_PROJECTIONS_CONFIG_FILE_H_
