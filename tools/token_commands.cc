#include "tools/token_commands.h"

#include <fcntl.h>
#include <openssl/rand.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>
#include <utility>

#include "absl/algorithm/container.h"
#include "absl/flags/declare.h"
#include "absl/flags/flag.h"
#include "absl/status/status.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "security/jwt.h"
#include "tools/cli_common.h"

// Defined in integrity_commands.cc; `token keygen` reads it as a directory.
ABSL_DECLARE_FLAG(std::string, out);

ABSL_FLAG(std::string, key_id, "",
          "token keygen/issue: the key id (JWT \"kid\"). Default: the first 16 "
          "hex digits of the SHA-256 of the public key.");
ABSL_FLAG(std::string, signing_key, "",
          "token issue: the PEM private key file (from token keygen).");
ABSL_FLAG(std::string, issuer, "", "token issue: the token's iss.");
ABSL_FLAG(std::string, audience, "",
          "token issue: the token's aud (comma-separated for several).");
ABSL_FLAG(std::string, subject, "", "token issue: the user id (sub).");
ABSL_FLAG(std::string, role, "", "token issue: the user's role.");
ABSL_FLAG(std::string, tenant, "", "token issue: the user's tenant.");
ABSL_FLAG(std::string, team, "", "token issue: the user's team (optional).");
ABSL_FLAG(std::string, name, "",
          "token issue: the user's display name (optional).");
ABSL_FLAG(absl::Duration, ttl, absl::Hours(8),
          "token issue: how long from now the token is valid (exp).");
ABSL_FLAG(std::string, not_before, "",
          "token issue: the token is not valid before this time (RFC 3339, "
          "e.g. 2026-03-02T09:00:00Z).");

namespace casetrail::tools {

const char kTokenUsage[] =
    R"(  token keygen --out=DIR [--key_id=ID]
                    DEVELOPMENT ONLY (demos and tests): a new Ed25519 key pair for signing bearer
                    tokens, DIR/jwt_signing.key (mode 0600) and DIR/jwt_signing.pub; prints the
                    key id. Never overwrites. Real tokens come from your identity provider.
  token issue --signing_key=FILE --issuer=ISS --audience=AUD --subject=USER --role=ROLE
              --tenant=T [--team=TEAM] [--name=NAME] [--ttl=8h] [--key_id=ID]
              [--not_before=TIME]
                    DEVELOPMENT ONLY: print a signed bearer token (JWT) with a random jti.
                    ROLE: upstream_system, social_worker, team_manager, service_manager,
                    panel_chair, reviewer, auditor, administrator.
)";

namespace {

constexpr const char* kRoles[] = {
    "upstream_system", "social_worker", "team_manager", "service_manager",
    "panel_chair",     "reviewer",      "auditor",      "administrator"};
constexpr char kPrivateKeyFile[] = "jwt_signing.key";
constexpr char kPublicKeyFile[] = "jwt_signing.pub";

absl::Status ErrnoError(const std::string& what) {
  const int error = errno;
  const std::string message = absl::StrCat(what, ": ", std::strerror(error));
  return error == EEXIST ? absl::AlreadyExistsError(message)
                         : absl::InternalError(message);
}

// Creates `path` (never replacing a file) with exactly `mode`, writes `text`
// and syncs it. On failure nothing is left behind.
absl::Status WriteNewFile(const std::string& path, const std::string& text,
                          mode_t mode) {
  const int fd =
      open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
  if (fd < 0) return ErrnoError(absl::StrCat("cannot create ", path));
  absl::Status status;
  // fchmod: the umask must not loosen or tighten what the caller asked for.
  if (fchmod(fd, mode) != 0) status = ErrnoError(path);
  for (size_t done = 0; status.ok() && done < text.size();) {
    const ssize_t n = write(fd, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      status = ErrnoError(absl::StrCat("cannot write ", path));
    } else {
      done += static_cast<size_t>(n);
    }
  }
  if (status.ok() && fsync(fd) != 0) {
    status = ErrnoError(absl::StrCat("cannot sync ", path));
  }
  if (close(fd) != 0 && status.ok()) {
    status = ErrnoError(absl::StrCat("cannot close ", path));
  }
  if (!status.ok()) unlink(path.c_str());
  return status;
}

void SyncDirectory(const std::string& dir) {
  const int fd = open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return;
  (void)fsync(fd);
  close(fd);
}

int Keygen(const std::vector<std::string>& args) {
  if (args.size() != 3) {
    return Fail(2, "usage: casetrail token keygen --out=DIR [--key_id=ID]");
  }
  const std::string dir = absl::GetFlag(FLAGS_out);
  if (dir.empty()) return Fail(2, "token keygen: --out=DIR is required");
  if (mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) {
    return Fail(2, absl::StrCat("token keygen: cannot create ", dir, ": ",
                                std::strerror(errno)));
  }
  struct stat st;
  if (stat(dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
    return Fail(2, absl::StrCat("token keygen: ", dir, " is not a directory"));
  }
  const std::string private_path = absl::StrCat(dir, "/", kPrivateKeyFile);
  const std::string public_path = absl::StrCat(dir, "/", kPublicKeyFile);
  for (const std::string& path : {private_path, public_path}) {
    if (lstat(path.c_str(), &st) == 0) {
      return Fail(2, absl::StrCat("token keygen: ", path,
                                  " already exists; refusing to overwrite it"));
    }
  }
  absl::StatusOr<security::KeyPairPem> pair =
      security::GenerateEd25519KeyPair();
  if (!pair.ok()) return Fail(1, std::string(pair.status().message()));
  std::string key_id = absl::GetFlag(FLAGS_key_id);
  if (key_id.empty()) {
    absl::StatusOr<std::string> derived =
        security::JwtKeyId(pair->public_key_pem);
    if (!derived.ok()) return Fail(1, std::string(derived.status().message()));
    key_id = *derived;
  }
  if (absl::Status s = WriteNewFile(private_path, pair->private_key_pem, 0600);
      !s.ok()) {
    return Fail(absl::IsAlreadyExists(s) ? 2 : 1,
                absl::StrCat("token keygen: ", s.message()));
  }
  if (absl::Status s = WriteNewFile(public_path, pair->public_key_pem, 0644);
      !s.ok()) {
    unlink(private_path.c_str());
    return Fail(absl::IsAlreadyExists(s) ? 2 : 1,
                absl::StrCat("token keygen: ", s.message()));
  }
  SyncDirectory(dir);
  std::printf("key id       %s\n", key_id.c_str());
  std::printf("signing key  %s  (secret; development only)\n",
              private_path.c_str());
  std::printf("public key   %s\n", public_path.c_str());
  return 0;
}

absl::StatusOr<std::string> ReadSigningKey(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return absl::InvalidArgumentError(
        absl::StrCat("--signing_key: cannot read ", path));
  }
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

absl::StatusOr<std::string> RandomTokenId() {
  unsigned char bytes[16];
  if (RAND_bytes(bytes, sizeof(bytes)) != 1) {
    return absl::InternalError("OpenSSL's random generator failed");
  }
  return absl::BytesToHexString(
      absl::string_view(reinterpret_cast<const char*>(bytes), sizeof(bytes)));
}

int Issue(const std::vector<std::string>& args) {
  if (args.size() != 3) {
    return Fail(2,
                "usage: casetrail token issue --signing_key=FILE --issuer=ISS "
                "--audience=AUD --subject=USER --role=ROLE --tenant=T ...");
  }
  security::TokenClaims claims;
  claims.issuer = absl::GetFlag(FLAGS_issuer);
  claims.subject = absl::GetFlag(FLAGS_subject);
  claims.role = absl::GetFlag(FLAGS_role);
  claims.tenant = absl::GetFlag(FLAGS_tenant);
  claims.team = absl::GetFlag(FLAGS_team);
  claims.name = absl::GetFlag(FLAGS_name);
  std::vector<std::string> audience = absl::StrSplit(
      absl::GetFlag(FLAGS_audience), ',', absl::SkipWhitespace());
  claims.audience = std::move(audience);
  const std::string key_file = absl::GetFlag(FLAGS_signing_key);
  for (const auto& [flag, value] :
       {std::pair<const char*, bool>{"signing_key", !key_file.empty()},
        {"issuer", !claims.issuer.empty()},
        {"audience", !claims.audience.empty()},
        {"subject", !claims.subject.empty()},
        {"role", !claims.role.empty()},
        {"tenant", !claims.tenant.empty()}}) {
    if (!value) {
      return Fail(2, absl::StrCat("token issue: --", flag, " is required"));
    }
  }
  if (!absl::c_linear_search(kRoles, claims.role)) {
    return Fail(2,
                absl::StrCat("token issue: --role=", claims.role,
                             " is not one of: ", absl::StrJoin(kRoles, ", ")));
  }
  const absl::Duration ttl = absl::GetFlag(FLAGS_ttl);
  if (ttl <= absl::ZeroDuration()) {
    return Fail(2, "token issue: --ttl must be positive");
  }
  const absl::Time now = absl::Now();
  claims.issued_at = now;
  claims.expires_at = now + ttl;
  if (const std::string nbf = absl::GetFlag(FLAGS_not_before); !nbf.empty()) {
    std::string error;
    if (!absl::ParseTime(absl::RFC3339_full, nbf, &claims.not_before, &error)) {
      return Fail(2, absl::StrCat("token issue: --not_before=", nbf,
                                  " is not an RFC 3339 time: ", error));
    }
    if (claims.not_before >= claims.expires_at) {
      return Fail(2,
                  "token issue: --not_before is not before the token expires "
                  "(now + --ttl)");
    }
  }
  absl::StatusOr<std::string> pem = ReadSigningKey(key_file);
  if (!pem.ok()) return Fail(2, std::string(pem.status().message()));
  std::string key_id = absl::GetFlag(FLAGS_key_id);
  if (key_id.empty()) {
    absl::StatusOr<std::string> derived = security::JwtKeyId(*pem);
    if (!derived.ok()) {
      return Fail(2, absl::StrCat("--signing_key=", key_file, ": ",
                                  derived.status().message()));
    }
    key_id = *derived;
  }
  absl::StatusOr<std::string> token_id = RandomTokenId();
  if (!token_id.ok()) return Fail(1, std::string(token_id.status().message()));
  claims.token_id = *token_id;
  absl::StatusOr<std::string> token = security::SignJwt(claims, *pem, key_id);
  if (!token.ok()) {
    return Fail(absl::IsInvalidArgument(token.status()) ? 2 : 1,
                absl::StrCat("--signing_key=", key_file, ": ",
                             token.status().message()));
  }
  std::printf("%s\n", token->c_str());
  return 0;
}

}  // namespace

int TokenCommand(const std::vector<std::string>& args) {
  const std::string sub = args.size() > 2 ? args[2] : "";
  if (sub == "keygen") return Keygen(args);
  if (sub == "issue") return Issue(args);
  return Fail(2, "usage: casetrail token keygen|issue (see casetrail --help)");
}

}  // namespace casetrail::tools
