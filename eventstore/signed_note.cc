#include "eventstore/signed_note.h"

#include <fcntl.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/sha.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "eventstore/status_macros.h"

namespace casetrail::eventstore {
namespace {

constexpr uint8_t kAlgEd25519 = 0x01;
constexpr size_t kEd25519KeyBytes = 32;
constexpr size_t kEd25519SignatureBytes = 64;
constexpr char kSignerKeyPrefix[] = "PRIVATE+KEY+";
// "— " (U+2014 EM DASH, then a space) starts every signature line.
constexpr absl::string_view kSignaturePrefix = "\xe2\x80\x94 ";
// More signature lines than this make a note malformed (as in the Go package).
constexpr int kMaxSignatures = 100;

std::shared_ptr<EVP_PKEY> OwnKey(EVP_PKEY* key) {
  return std::shared_ptr<EVP_PKEY>(key, EVP_PKEY_free);
}

uint32_t KeyId(absl::string_view name, absl::string_view public_key) {
  std::string input = absl::StrCat(name, "\n");
  input.push_back(static_cast<char>(kAlgEd25519));
  input.append(public_key.data(), public_key.size());
  uint8_t digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const uint8_t*>(input.data()), input.size(), digest);
  return uint32_t{digest[0]} << 24 | uint32_t{digest[1]} << 16 |
         uint32_t{digest[2]} << 8 | uint32_t{digest[3]};
}

std::string KeyIdBytes(uint32_t id) {
  return {static_cast<char>(id >> 24), static_cast<char>(id >> 16),
          static_cast<char>(id >> 8), static_cast<char>(id)};
}

// Strict base64: only the canonical standard encoding (padded) decodes.
bool DecodeBase64(absl::string_view text, std::string* out) {
  return absl::Base64Unescape(text, out) && absl::Base64Escape(*out) == text;
}

// Parses "<key id hex>+<base64(0x01 || key)>" after the name.
absl::Status ParseIdAndKey(absl::string_view what, absl::string_view id_hex,
                           absl::string_view key_b64, uint32_t* id,
                           std::string* key) {
  if (id_hex.size() != 8 || !absl::SimpleHexAtoi(id_hex, id) ||
      absl::AsciiStrToLower(id_hex) != id_hex) {
    return absl::InvalidArgumentError(
        absl::StrCat(what, ": the key id is not 8 lowercase hex digits"));
  }
  std::string raw;
  if (!DecodeBase64(key_b64, &raw)) {
    return absl::InvalidArgumentError(
        absl::StrCat(what, ": the key is not valid base64"));
  }
  if (raw.empty() || static_cast<uint8_t>(raw[0]) != kAlgEd25519) {
    return absl::InvalidArgumentError(
        absl::StrCat(what, ": not an Ed25519 key (algorithm byte ",
                     raw.empty() ? 0 : static_cast<uint8_t>(raw[0]), ")"));
  }
  if (raw.size() != 1 + kEd25519KeyBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat(what, ": the key is ", raw.size() - 1, " bytes, not ",
                     kEd25519KeyBytes));
  }
  *key = raw.substr(1);
  return absl::OkStatus();
}

std::string EncodeKey(absl::string_view key) {
  std::string raw(1, static_cast<char>(kAlgEd25519));
  raw.append(key.data(), key.size());
  return absl::Base64Escape(raw);
}

bool IsValidUtf8WithoutControls(absl::string_view text) {
  size_t i = 0;
  while (i < text.size()) {
    const uint8_t c = static_cast<uint8_t>(text[i]);
    if (c < 0x80) {
      if ((c < 0x20 && c != '\n') || c == 0x7f) return false;
      ++i;
      continue;
    }
    int extra;
    uint32_t min;
    uint32_t cp;
    if ((c & 0xe0) == 0xc0) {
      extra = 1, min = 0x80, cp = c & 0x1f;
    } else if ((c & 0xf0) == 0xe0) {
      extra = 2, min = 0x800, cp = c & 0x0f;
    } else if ((c & 0xf8) == 0xf0) {
      extra = 3, min = 0x10000, cp = c & 0x07;
    } else {
      return false;
    }
    if (i + extra >= text.size()) return false;
    for (int k = 1; k <= extra; ++k) {
      const uint8_t cc = static_cast<uint8_t>(text[i + k]);
      if ((cc & 0xc0) != 0x80) return false;
      cp = cp << 6 | (cc & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) {
      return false;
    }
    i += extra + 1;
  }
  return true;
}

absl::Status ErrnoError(const std::string& what) {
  return absl::ErrnoToStatus(errno, what);
}

}  // namespace

bool IsValidKeyName(absl::string_view name) {
  if (name.empty()) return false;
  for (char c : name) {
    if (c <= ' ' || c >= 0x7f || c == '+') return false;
  }
  return true;
}

bool IsValidNoteText(absl::string_view text) {
  return !text.empty() && text.back() == '\n' &&
         IsValidUtf8WithoutControls(text);
}

// --- NoteSigner ---

absl::StatusOr<NoteSigner> NoteSigner::Generate(absl::string_view name) {
  if (!IsValidKeyName(name)) {
    return absl::InvalidArgumentError(
        absl::StrCat("invalid key name \"", name,
                     "\": use printable ASCII without spaces or '+'"));
  }
  uint8_t seed[kEd25519KeyBytes];
  if (RAND_bytes(seed, sizeof(seed)) != 1) {
    return absl::InternalError("OpenSSL could not generate random bytes");
  }
  // Derive the public key for the key id, then parse the key text as any
  // loaded key is parsed.
  EVP_PKEY* raw =
      EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, nullptr, seed, 32);
  if (raw == nullptr) return absl::InternalError("OpenSSL rejected the key");
  std::shared_ptr<EVP_PKEY> key = OwnKey(raw);
  uint8_t pub[kEd25519KeyBytes];
  size_t pub_len = sizeof(pub);
  if (EVP_PKEY_get_raw_public_key(key.get(), pub, &pub_len) != 1) {
    return absl::InternalError("OpenSSL could not derive the public key");
  }
  const uint32_t id =
      KeyId(name, absl::string_view(reinterpret_cast<char*>(pub), 32));
  return FromSignerKey(absl::StrCat(
      kSignerKeyPrefix, name, "+", absl::StrFormat("%08x", id), "+",
      EncodeKey(absl::string_view(reinterpret_cast<char*>(seed), 32))));
}

absl::StatusOr<NoteSigner> NoteSigner::FromSignerKey(absl::string_view skey) {
  skey = absl::StripTrailingAsciiWhitespace(skey);
  if (!absl::ConsumePrefix(&skey, kSignerKeyPrefix)) {
    return absl::InvalidArgumentError(
        "not a signer key: it does not start with PRIVATE+KEY+");
  }
  std::vector<absl::string_view> parts =
      absl::StrSplit(skey, absl::MaxSplits('+', 2));
  if (parts.size() != 3) {
    return absl::InvalidArgumentError(
        "not a signer key: expected PRIVATE+KEY+<name>+<id>+<key>");
  }
  NoteSigner signer;
  if (!IsValidKeyName(parts[0])) {
    return absl::InvalidArgumentError("signer key: invalid key name");
  }
  signer.name_ = std::string(parts[0]);
  uint32_t id = 0;
  RETURN_IF_ERROR(
      ParseIdAndKey("signer key", parts[1], parts[2], &id, &signer.seed_));
  EVP_PKEY* raw = EVP_PKEY_new_raw_private_key(
      EVP_PKEY_ED25519, nullptr,
      reinterpret_cast<const uint8_t*>(signer.seed_.data()),
      signer.seed_.size());
  if (raw == nullptr) {
    return absl::InvalidArgumentError("signer key: OpenSSL rejected the key");
  }
  signer.key_ = OwnKey(raw);
  signer.public_key_.resize(kEd25519KeyBytes);
  size_t pub_len = kEd25519KeyBytes;
  if (EVP_PKEY_get_raw_public_key(
          signer.key_.get(),
          reinterpret_cast<uint8_t*>(signer.public_key_.data()),
          &pub_len) != 1) {
    return absl::InternalError("OpenSSL could not derive the public key");
  }
  signer.key_id_ = KeyId(signer.name_, signer.public_key_);
  if (signer.key_id_ != id) {
    return absl::InvalidArgumentError(
        "signer key: the key id does not match the name and key");
  }
  return signer;
}

std::string NoteSigner::signer_key() const {
  return absl::StrCat(kSignerKeyPrefix, name_, "+",
                      absl::StrFormat("%08x", key_id_), "+", EncodeKey(seed_));
}

std::string NoteSigner::verifier_key() const {
  return absl::StrCat(name_, "+", absl::StrFormat("%08x", key_id_), "+",
                      EncodeKey(public_key_));
}

absl::StatusOr<std::string> NoteSigner::Sign(absl::string_view text) const {
  if (!IsValidNoteText(text)) {
    return absl::InvalidArgumentError(
        "a note's text must be non-empty UTF-8 without control characters "
        "and end in a newline");
  }
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(),
                                                              EVP_MD_CTX_free);
  uint8_t signature[kEd25519SignatureBytes];
  size_t signature_len = sizeof(signature);
  if (ctx == nullptr ||
      EVP_DigestSignInit(ctx.get(), nullptr, nullptr, nullptr, key_.get()) !=
          1 ||
      EVP_DigestSign(ctx.get(), signature, &signature_len,
                     reinterpret_cast<const uint8_t*>(text.data()),
                     text.size()) != 1) {
    return absl::InternalError("OpenSSL could not sign the note");
  }
  std::string blob = KeyIdBytes(key_id_);
  blob.append(reinterpret_cast<char*>(signature), signature_len);
  return absl::StrCat(text, "\n", kSignaturePrefix, name_, " ",
                      absl::Base64Escape(blob), "\n");
}

// --- NoteVerifier ---

absl::StatusOr<NoteVerifier> NoteVerifier::FromVerifierKey(
    absl::string_view vkey) {
  vkey = absl::StripAsciiWhitespace(vkey);
  std::vector<absl::string_view> parts =
      absl::StrSplit(vkey, absl::MaxSplits('+', 2));
  if (parts.size() != 3) {
    return absl::InvalidArgumentError(
        "not a verifier key: expected <name>+<id>+<key>");
  }
  NoteVerifier verifier;
  if (!IsValidKeyName(parts[0])) {
    return absl::InvalidArgumentError("verifier key: invalid key name");
  }
  verifier.name_ = std::string(parts[0]);
  uint32_t id = 0;
  RETURN_IF_ERROR(ParseIdAndKey("verifier key", parts[1], parts[2], &id,
                                &verifier.public_key_));
  verifier.key_id_ = KeyId(verifier.name_, verifier.public_key_);
  if (verifier.key_id_ != id) {
    return absl::InvalidArgumentError(
        "verifier key: the key id does not match the name and key");
  }
  EVP_PKEY* raw = EVP_PKEY_new_raw_public_key(
      EVP_PKEY_ED25519, nullptr,
      reinterpret_cast<const uint8_t*>(verifier.public_key_.data()),
      verifier.public_key_.size());
  if (raw == nullptr) {
    return absl::InvalidArgumentError("verifier key: OpenSSL rejected the key");
  }
  verifier.key_ = OwnKey(raw);
  return verifier;
}

std::string NoteVerifier::verifier_key() const {
  return absl::StrCat(name_, "+", absl::StrFormat("%08x", key_id_), "+",
                      EncodeKey(public_key_));
}

absl::StatusOr<std::string> NoteVerifier::Open(absl::string_view note) const {
  if (!IsValidUtf8WithoutControls(note)) {
    return absl::InvalidArgumentError(
        "malformed note: not UTF-8 text without control characters");
  }
  // The text ends at the last blank line; signature lines follow.
  const size_t split = note.rfind("\n\n");
  if (split == absl::string_view::npos || split + 2 == note.size() ||
      note.back() != '\n') {
    return absl::InvalidArgumentError(
        "malformed note: no blank line before the signatures, no signatures, "
        "or no final newline");
  }
  const absl::string_view text = note.substr(0, split + 1);
  absl::string_view signatures = note.substr(split + 2);
  signatures.remove_suffix(1);
  int count = 0;
  bool found = false;
  for (absl::string_view line : absl::StrSplit(signatures, '\n')) {
    if (++count > kMaxSignatures) {
      return absl::InvalidArgumentError("malformed note: too many signatures");
    }
    if (!absl::ConsumePrefix(&line, kSignaturePrefix)) {
      return absl::InvalidArgumentError(
          "malformed note: a signature line does not start with \"— \"");
    }
    const size_t space = line.find(' ');
    std::string blob;
    if (space == absl::string_view::npos ||
        !IsValidKeyName(line.substr(0, space)) ||
        !DecodeBase64(line.substr(space + 1), &blob) || blob.size() < 5) {
      return absl::InvalidArgumentError(
          "malformed note: a signature line is not \"— <name> <base64>\"");
    }
    const absl::string_view name = line.substr(0, space);
    if (name != name_ || blob.substr(0, 4) != KeyIdBytes(key_id_)) continue;
    found = true;
    const absl::string_view signature = absl::string_view(blob).substr(4);
    std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(
        EVP_MD_CTX_new(), EVP_MD_CTX_free);
    if (ctx != nullptr && signature.size() == kEd25519SignatureBytes &&
        EVP_DigestVerifyInit(ctx.get(), nullptr, nullptr, nullptr,
                             key_.get()) == 1 &&
        EVP_DigestVerify(
            ctx.get(), reinterpret_cast<const uint8_t*>(signature.data()),
            signature.size(), reinterpret_cast<const uint8_t*>(text.data()),
            text.size()) == 1) {
      return std::string(text);
    }
  }
  if (found) {
    return absl::PermissionDeniedError(absl::StrCat(
        "the signature by ", name_, "+", absl::StrFormat("%08x", key_id_),
        " does not verify: the note's text or its signature was changed"));
  }
  return absl::PermissionDeniedError(absl::StrCat(
      "the note is not signed by ", name_, "+",
      absl::StrFormat("%08x", key_id_), " (it may be signed by another key)"));
}

// --- Key files ---

absl::StatusOr<NoteSigner> LoadSignerKeyFile(const std::string& path) {
  struct stat st;
  if (stat(path.c_str(), &st) != 0) {
    return ErrnoError(absl::StrCat("signing key file ", path));
  }
  if ((st.st_mode & 077) != 0) {
    return absl::FailedPreconditionError(
        absl::StrFormat("signing key file %s can be read by others (mode "
                        "%04o); run chmod 600 %s",
                        path, st.st_mode & 07777, path));
  }
  std::ifstream in(path);
  std::stringstream contents;
  contents << in.rdbuf();
  if (!in) return ErrnoError(absl::StrCat("reading signing key file ", path));
  absl::StatusOr<NoteSigner> signer = NoteSigner::FromSignerKey(contents.str());
  if (!signer.ok()) {
    return absl::FailedPreconditionError(absl::StrCat(
        "signing key file ", path, ": ", signer.status().message()));
  }
  return signer;
}

absl::StatusOr<NoteSigner> LoadOrCreateSignerKeyFile(
    const std::string& path, absl::string_view name_for_new_key) {
  if (access(path.c_str(), F_OK) == 0) return LoadSignerKeyFile(path);
  ASSIGN_OR_RETURN(NoteSigner signer, NoteSigner::Generate(name_for_new_key));
  const int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL, 0600);
  if (fd < 0) {
    // Another process created it first: use theirs.
    if (errno == EEXIST) return LoadSignerKeyFile(path);
    return ErrnoError(absl::StrCat("creating signing key file ", path));
  }
  const std::string text = signer.signer_key() + "\n";
  const bool written =
      write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
  const int saved = errno;
  const bool synced = written && fsync(fd) == 0;
  close(fd);
  if (!synced) {
    unlink(path.c_str());
    errno = saved;
    return ErrnoError(absl::StrCat("writing signing key file ", path));
  }
  return signer;
}

}  // namespace casetrail::eventstore
