#ifndef CASETRAIL_EVENTSTORE_KEYS_H_
#define CASETRAIL_EVENTSTORE_KEYS_H_

// Key encodings of the event store's column families (eventstore/FORMAT.md).
// All integers are big-endian so that RocksDB's bytewise order is numeric
// order.

#include <cstdint>
#include <optional>
#include <string>

#include "absl/strings/string_view.h"

namespace casetrail::eventstore {

// The store's column families.
inline constexpr char kEventsCf[] = "events";
inline constexpr char kStreamsCf[] = "streams";
inline constexpr char kStreamMetaCf[] = "stream_meta";
inline constexpr char kDedupeCf[] = "dedupe";
inline constexpr char kMetaCf[] = "meta";
inline constexpr char kMerkleCf[] = "merkle";

// `meta` CF key of the store's format version (u64be).
inline constexpr char kFormatVersionKey[] = "format_version";

// Fixed-width big-endian encoding of a u64.
std::string EncodeU64(uint64_t value);
// Decodes exactly 8 big-endian bytes; nullopt for any other length.
std::optional<uint64_t> DecodeU64(absl::string_view bytes);

// `events` CF key: the position.
inline std::string EventKey(uint64_t position) { return EncodeU64(position); }

// `streams` CF key: stream id, 0x00, version. Stream ids never contain 0x00, so
// every key of a stream sorts together and in version order.
std::string StreamEventKey(absl::string_view stream_id, uint64_t version);

struct StreamEventKeyParts {
  absl::string_view stream_id;
  uint64_t version;
};
// Splits a `streams` key; nullopt if it is not one.
std::optional<StreamEventKeyParts> ParseStreamEventKey(absl::string_view key);

// `merkle` CF key of complete subtree (level, index): one byte of level, then
// the index, so each level's subtrees sort together and in order.
std::string MerkleKey(int level, uint64_t index);

// `meta` CF key of the checkpoint stored for a tree size: the prefix, then the
// size, so checkpoints sort by size.
inline constexpr char kCheckpointKeyPrefix[] = "checkpoint/";
inline std::string CheckpointKey(uint64_t tree_size) {
  return kCheckpointKeyPrefix + EncodeU64(tree_size);
}

// True if `stream_id` can be stored: 1-200 bytes, printable ASCII, no spaces.
bool IsValidStreamId(absl::string_view stream_id);

}  // namespace casetrail::eventstore

#endif  // CASETRAIL_EVENTSTORE_KEYS_H_
