#ifndef CASETRAIL_EVENTSTORE_SIGNED_NOTE_H_
#define CASETRAIL_EVENTSTORE_SIGNED_NOTE_H_

// Signed notes (C2SP signed-note, the format of Go's golang.org/x/mod/sumdb/
// note) with Ed25519 keys, through OpenSSL 3.
//
// A note is text ending in a newline, a blank line, then one line per
// signature: "— <key name> <base64(key id || signature)>". Keys are text too:
//   verifier key  <name>+<key id, 8 hex digits>+<base64(0x01 || public key)>
//   signer key    PRIVATE+KEY+<name>+<key id>+<base64(0x01 || 32-byte seed)>
// where the key id is the first 4 bytes (big-endian) of
// SHA-256(name || "\n" || 0x01 || public key). The formats are byte-for-byte
// those of the Go reference implementation; tests check its published example.
//
// Thread-safety: NoteSigner and NoteVerifier are immutable after construction
// and safe to share between threads.

#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

typedef struct evp_pkey_st EVP_PKEY;

namespace casetrail::eventstore {

class NoteSigner {
 public:
  // A new key from the system's random source. `name` must be a valid key name
  // (non-empty printable ASCII without spaces or '+').
  static absl::StatusOr<NoteSigner> Generate(absl::string_view name);
  // Parses a signer key ("PRIVATE+KEY+..."). Errors: INVALID_ARGUMENT naming
  // what is wrong (never echoing the key).
  static absl::StatusOr<NoteSigner> FromSignerKey(absl::string_view skey);

  const std::string& name() const { return name_; }
  uint32_t key_id() const { return key_id_; }
  // The secret signer key text. Keep it in a file only its owner can read.
  std::string signer_key() const;
  std::string verifier_key() const;

  // `text` signed: text, a blank line, this key's signature line. Errors:
  // INVALID_ARGUMENT unless IsValidNoteText(text); INTERNAL if OpenSSL fails.
  absl::StatusOr<std::string> Sign(absl::string_view text) const;

 private:
  NoteSigner() = default;
  std::string name_;
  uint32_t key_id_ = 0;
  std::string seed_;        // 32 bytes
  std::string public_key_;  // 32 bytes
  std::shared_ptr<EVP_PKEY> key_;
};

class NoteVerifier {
 public:
  // Parses a verifier key. Errors: INVALID_ARGUMENT naming what is wrong,
  // including a key id that does not match the name and key.
  static absl::StatusOr<NoteVerifier> FromVerifierKey(absl::string_view vkey);

  const std::string& name() const { return name_; }
  uint32_t key_id() const { return key_id_; }
  std::string verifier_key() const;

  // The note's text if it carries a valid signature by this key. Signatures by
  // other keys are ignored. Errors: INVALID_ARGUMENT if the note is malformed;
  // PERMISSION_DENIED if it has no signature by this key, or this key's
  // signature does not verify (the text or signature was changed).
  absl::StatusOr<std::string> Open(absl::string_view note) const;

 private:
  NoteVerifier() = default;
  std::string name_;
  uint32_t key_id_ = 0;
  std::string public_key_;
  std::shared_ptr<EVP_PKEY> key_;
};

// Key names: non-empty printable ASCII without spaces or '+'.
bool IsValidKeyName(absl::string_view name);
// Note texts: non-empty, ending in a newline, valid UTF-8 without control
// characters other than newlines.
bool IsValidNoteText(absl::string_view text);

// Reads the signer key in `path`, or, if the file does not exist, generates a
// key named `name_for_new_key` and writes it there with permissions 0600
// (created exclusively, so two processes cannot both create it). Errors:
// FAILED_PRECONDITION if an existing file can be read by group or others, or
// holds no valid signer key; the I/O error otherwise.
absl::StatusOr<NoteSigner> LoadOrCreateSignerKeyFile(
    const std::string& path, absl::string_view name_for_new_key);
// Reads the signer key in `path` (which must exist), with the same permission
// check.
absl::StatusOr<NoteSigner> LoadSignerKeyFile(const std::string& path);

}  // namespace casetrail::eventstore

#endif  // CASETRAIL_EVENTSTORE_SIGNED_NOTE_H_
