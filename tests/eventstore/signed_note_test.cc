// Signed notes and checkpoints: the Go reference implementation's published
// example and the C2SP spec's example reproduced byte for byte, every mangled
// key refused, tampered notes refused with the reason, and the key file's
// permissions.

#include "eventstore/signed_note.h"

#include <sys/stat.h>

#include <fstream>
#include <string>

#include "absl/strings/str_cat.h"
#include "eventstore/checkpoint.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/server_process.h"

namespace casetrail::eventstore {
namespace {

using ::casetrail::testing::TempDir;
using ::testing::HasSubstr;

// golang.org/x/mod/sumdb/note's documented example.
constexpr char kGoSignerKey[] =
    "PRIVATE+KEY+PeterNeumann+c74f20a3+"
    "AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz";
constexpr char kGoVerifierKey[] =
    "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW";
constexpr char kGoText[] =
    "If you think cryptography is the answer to your problem,\n"
    "then you don't know what your problem is.\n";
constexpr char kGoSignatureLine[] =
    "\xe2\x80\x94 PeterNeumann "
    "x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngo"
    "tpRZb6KE6RyyBwJnAM=\n";

// The example of c2sp.org/signed-note.
constexpr char kSpecVerifierKey[] =
    "example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k";
constexpr char kSpecNote[] =
    "This is an example message.\n\n"
    "\xe2\x80\x94 example.com/foo "
    "Uw2QOkn8srV1yJGh2VYRlL1Tnagv1YEq6TfXppzi2ONncAlTgK7Ztg1ERYNZXsYjOBH3mFXmRK"
    "uwHjG1Yu72IneyaQM=\n";

TEST(SignedNoteTest, ReproducesTheGoReferenceExample) {
  absl::StatusOr<NoteSigner> signer = NoteSigner::FromSignerKey(kGoSignerKey);
  ASSERT_TRUE(signer.ok()) << signer.status();
  EXPECT_EQ(signer->name(), "PeterNeumann");
  EXPECT_EQ(signer->key_id(), 0xc74f20a3u);
  EXPECT_EQ(signer->verifier_key(), kGoVerifierKey);
  EXPECT_EQ(signer->signer_key(), kGoSignerKey);
  // Ed25519 is deterministic, so the note is exactly the published one.
  absl::StatusOr<std::string> note = signer->Sign(kGoText);
  ASSERT_TRUE(note.ok()) << note.status();
  EXPECT_EQ(*note, absl::StrCat(kGoText, "\n", kGoSignatureLine));

  absl::StatusOr<NoteVerifier> verifier =
      NoteVerifier::FromVerifierKey(kGoVerifierKey);
  ASSERT_TRUE(verifier.ok()) << verifier.status();
  EXPECT_EQ(verifier->key_id(), 0xc74f20a3u);
  absl::StatusOr<std::string> text = verifier->Open(*note);
  ASSERT_TRUE(text.ok()) << text.status();
  EXPECT_EQ(*text, kGoText);
}

TEST(SignedNoteTest, OpensTheSpecExample) {
  absl::StatusOr<NoteVerifier> verifier =
      NoteVerifier::FromVerifierKey(kSpecVerifierKey);
  ASSERT_TRUE(verifier.ok()) << verifier.status();
  absl::StatusOr<std::string> text = verifier->Open(kSpecNote);
  ASSERT_TRUE(text.ok()) << text.status();
  EXPECT_EQ(*text, "This is an example message.\n");
}

TEST(SignedNoteTest, EveryManglingOfAKeyIsRefused) {
  for (const std::string& key :
       {std::string(kGoSignerKey), std::string(kGoVerifierKey)}) {
    const bool is_signer = key == kGoSignerKey;
    auto parses = [&](const std::string& k) {
      return is_signer ? NoteSigner::FromSignerKey(k).ok()
                       : NoteVerifier::FromVerifierKey(k).ok();
    };
    ASSERT_TRUE(parses(key));
    for (size_t i = 0; i < key.size(); ++i) {
      for (size_t j = i + 1; j <= key.size(); ++j) {
        if (i == 0 && j == key.size()) continue;
        const std::string part = key.substr(i, j - i);
        // Surrounding whitespace is tolerated (key files end in a newline), but
        // a substring never is a valid key.
        EXPECT_FALSE(parses(part)) << part;
      }
    }
    for (size_t i = 0; i < key.size(); ++i) {
      std::string changed = key;
      ++changed[i];
      EXPECT_FALSE(parses(changed)) << changed;
    }
  }
  // A well-formed key whose id matches but of another algorithm or length.
  EXPECT_FALSE(NoteVerifier::FromVerifierKey(
                   "PeterNeumann+cc469956+"
                   "ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TWBADKEY==")
                   .ok());
  EXPECT_FALSE(NoteVerifier::FromVerifierKey(
                   "PeterNeumann+173116ae+"
                   "ZRpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW")
                   .ok());
}

TEST(SignedNoteTest, ChangedTextOrSignatureDoesNotVerify) {
  NoteVerifier verifier = *NoteVerifier::FromVerifierKey(kGoVerifierKey);
  const std::string note = absl::StrCat(kGoText, "\n", kGoSignatureLine);
  std::string changed_text = note;
  changed_text[3] = 'X';
  EXPECT_EQ(verifier.Open(changed_text).status().code(),
            absl::StatusCode::kPermissionDenied);
  EXPECT_THAT(verifier.Open(changed_text).status().message(),
              HasSubstr("does not verify"));

  std::string changed_signature = note;
  const size_t sig = changed_signature.find("x08go") + 10;
  changed_signature[sig] = changed_signature[sig] == 'A' ? 'B' : 'A';
  EXPECT_EQ(verifier.Open(changed_signature).status().code(),
            absl::StatusCode::kPermissionDenied);
}

TEST(SignedNoteTest, AnotherKeysSignatureIsNotAccepted) {
  NoteSigner other = *NoteSigner::Generate("PeterNeumann");
  const std::string note = *other.Sign(kGoText);
  NoteVerifier verifier = *NoteVerifier::FromVerifierKey(kGoVerifierKey);
  absl::Status status = verifier.Open(note).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kPermissionDenied);
  EXPECT_THAT(status.message(), HasSubstr("not signed by"));
  // With both signatures, each verifier finds its own.
  const std::string both = absl::StrCat(note, kGoSignatureLine);
  EXPECT_EQ(*verifier.Open(both), kGoText);
  EXPECT_TRUE(
      NoteVerifier::FromVerifierKey(other.verifier_key())->Open(both).ok());
}

TEST(SignedNoteTest, MalformedNotesAreInvalidArgument) {
  NoteVerifier verifier = *NoteVerifier::FromVerifierKey(kGoVerifierKey);
  const std::string good = absl::StrCat(kGoText, "\n", kGoSignatureLine);
  for (const std::string& bad : {
           std::string(kGoText),                  // no signatures
           absl::StrCat(kGoText, "\n"),           // a blank line, then nothing
           good.substr(0, good.size() - 1),       // no final newline
           absl::StrCat(kGoText, "\nno dash\n"),  // not a signature line
           absl::StrCat(kGoText, "\n\xe2\x80\x94 PeterNeumann\n"),
           absl::StrCat(kGoText, "\n\xe2\x80\x94 PeterNeumann !!!\n"),
           absl::StrCat("a\x01", good),  // control character
           absl::StrCat("\xff", good),   // not UTF-8
       }) {
    EXPECT_EQ(verifier.Open(bad).status().code(),
              absl::StatusCode::kInvalidArgument)
        << bad;
  }
}

TEST(SignedNoteTest, GeneratedKeysRoundTrip) {
  absl::StatusOr<NoteSigner> signer =
      NoteSigner::Generate("casetrail.test/log");
  ASSERT_TRUE(signer.ok()) << signer.status();
  EXPECT_EQ(NoteSigner::FromSignerKey(signer->signer_key())->verifier_key(),
            signer->verifier_key());
  NoteVerifier verifier =
      *NoteVerifier::FromVerifierKey(signer->verifier_key());
  EXPECT_EQ(*verifier.Open(*signer->Sign("hello\n")), "hello\n");
  EXPECT_NE(NoteSigner::Generate("casetrail.test/log")->verifier_key(),
            signer->verifier_key());
  EXPECT_FALSE(NoteSigner::Generate("has space").ok());
  EXPECT_FALSE(NoteSigner::Generate("has+plus").ok());
  EXPECT_FALSE(signer->Sign("no newline").ok());
}

TEST(SigningKeyFileTest, CreatedOnceWithOwnerOnlyPermissions) {
  TempDir dir;
  const std::string path = dir.path() + "/signing.key";
  absl::StatusOr<NoteSigner> created =
      LoadOrCreateSignerKeyFile(path, "casetrail.test/log");
  ASSERT_TRUE(created.ok()) << created.status();
  struct stat st;
  ASSERT_EQ(stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  // Loaded again, not regenerated; the name for a new key is then ignored.
  absl::StatusOr<NoteSigner> loaded =
      LoadOrCreateSignerKeyFile(path, "other/name");
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  EXPECT_EQ(loaded->verifier_key(), created->verifier_key());
}

TEST(SigningKeyFileTest, RefusesAFileOthersCanRead) {
  TempDir dir;
  const std::string path = dir.path() + "/signing.key";
  ASSERT_TRUE(LoadOrCreateSignerKeyFile(path, "casetrail.test/log").ok());
  ASSERT_EQ(chmod(path.c_str(), 0644), 0);
  absl::Status status = LoadSignerKeyFile(path).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(status.message(), HasSubstr("chmod 600"));
}

TEST(SigningKeyFileTest, RefusesAFileWithoutAKey) {
  TempDir dir;
  const std::string path = dir.path() + "/signing.key";
  std::ofstream(path) << "not a key\n";
  ASSERT_EQ(chmod(path.c_str(), 0600), 0);
  absl::Status status = LoadSignerKeyFile(path).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(status.message(), HasSubstr("PRIVATE+KEY"));
  EXPECT_EQ(LoadSignerKeyFile(dir.path() + "/missing").status().code(),
            absl::StatusCode::kNotFound);
}

// --- Checkpoints ---

Checkpoint Example(const NoteSigner& signer) {
  Checkpoint c;
  c.origin = signer.name();
  c.tree_size = 1234567;
  c.root = LeafHash("root");
  c.issued_at = absl::FromUnixSeconds(1795000000);
  return c;
}

TEST(CheckpointTest, TextIsTheC2spForm) {
  NoteSigner signer = *NoteSigner::Generate("casetrail.test/log");
  Checkpoint c = Example(signer);
  c.root = MerkleHash{};
  EXPECT_EQ(CheckpointText(c),
            "casetrail.test/log\n1234567\n"
            "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n"
            "issued_at 2026-11-18T11:06:40Z\n");
  EXPECT_EQ(*ParseCheckpointText(CheckpointText(c)), c);
}

TEST(CheckpointTest, SignedCheckpointOpensWithTheKey) {
  NoteSigner signer = *NoteSigner::Generate("casetrail.test/log");
  const Checkpoint c = Example(signer);
  const std::string note = *SignCheckpoint(c, signer);
  NoteVerifier verifier = *NoteVerifier::FromVerifierKey(signer.verifier_key());
  absl::StatusOr<Checkpoint> opened = OpenCheckpoint(note, verifier);
  ASSERT_TRUE(opened.ok()) << opened.status();
  EXPECT_EQ(*opened, c);
  EXPECT_EQ(*ParseCheckpointNoteUnverified(note), c);
}

TEST(CheckpointTest, ChangedRootOrAnotherKeyFailsWithAReason) {
  NoteSigner signer = *NoteSigner::Generate("casetrail.test/log");
  const Checkpoint c = Example(signer);
  const std::string note = *SignCheckpoint(c, signer);
  NoteVerifier verifier = *NoteVerifier::FromVerifierKey(signer.verifier_key());

  Checkpoint forged = c;
  forged.root = LeafHash("another root");
  std::string changed = note;
  const std::string old_line = CheckpointText(c);
  changed.replace(0, old_line.size(), CheckpointText(forged));
  absl::Status status = OpenCheckpoint(changed, verifier).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kPermissionDenied);
  EXPECT_THAT(status.message(), HasSubstr("does not verify"));

  NoteSigner impostor = *NoteSigner::Generate("casetrail.test/log");
  status = OpenCheckpoint(*SignCheckpoint(c, impostor), verifier).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kPermissionDenied);
  EXPECT_THAT(status.message(), HasSubstr("not signed by"));

  // Validly signed, but the key signs for another log name.
  NoteSigner other_log = *NoteSigner::Generate("other.test/log");
  std::string other_note = *other_log.Sign(CheckpointText(c));
  status =
      OpenCheckpoint(other_note,
                     *NoteVerifier::FromVerifierKey(other_log.verifier_key()))
          .status();
  EXPECT_EQ(status.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_FALSE(SignCheckpoint(c, other_log).ok());
}

TEST(CheckpointTest, MalformedTextsAreRefused) {
  for (const char* bad : {
           "",
           "log\n12\n",
           "log\n012\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n"
           "issued_at 2026-11-18T08:26:40Z\n",
           "log\n-1\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n"
           "issued_at 2026-11-18T08:26:40Z\n",
           "log\n99999999999999999999\n"
           "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n"
           "issued_at 2026-11-18T08:26:40Z\n",
           "log\n12\nAAAA\nissued_at 2026-11-18T08:26:40Z\n",
           // Not in the one canonical form (the note is signed as text).
           "log\n12\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n"
           "issued_at 2026-11-18T08:2:40Z\n",
           "log\n12\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\nyesterday\n",
           "log\n12\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n"
           "issued_at 2026-11-18T08:26:40Z\nextra\n",
           "log\n12\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n"
           "issued_at 2026-11-18T08:26:40Z",
       }) {
    EXPECT_EQ(ParseCheckpointText(bad).status().code(),
              absl::StatusCode::kInvalidArgument)
        << bad;
  }
}

}  // namespace
}  // namespace casetrail::eventstore
