#include "eventstore/keys.h"

namespace casetrail::eventstore {

std::string EncodeU64(uint64_t value) {
  std::string out(8, '\0');
  for (int i = 7; i >= 0; --i) {
    out[i] = static_cast<char>(value & 0xff);
    value >>= 8;
  }
  return out;
}

std::optional<uint64_t> DecodeU64(absl::string_view bytes) {
  if (bytes.size() != 8) return std::nullopt;
  uint64_t value = 0;
  for (unsigned char c : bytes) value = (value << 8) | c;
  return value;
}

std::string StreamEventKey(absl::string_view stream_id, uint64_t version) {
  std::string key;
  key.reserve(stream_id.size() + 9);
  key.append(stream_id.data(), stream_id.size());
  key.push_back('\0');
  key.append(EncodeU64(version));
  return key;
}

std::optional<StreamEventKeyParts> ParseStreamEventKey(absl::string_view key) {
  if (key.size() < 10 || key[key.size() - 9] != '\0') return std::nullopt;
  absl::string_view stream_id = key.substr(0, key.size() - 9);
  if (!IsValidStreamId(stream_id)) return std::nullopt;
  return StreamEventKeyParts{stream_id, *DecodeU64(key.substr(key.size() - 8))};
}

std::string MerkleKey(int level, uint64_t index) {
  std::string key(1, static_cast<char>(level));
  key.append(EncodeU64(index));
  return key;
}

bool IsValidStreamId(absl::string_view stream_id) {
  if (stream_id.empty() || stream_id.size() > 200) return false;
  for (unsigned char c : stream_id) {
    if (c <= 0x20 || c >= 0x7f) return false;
  }
  return true;
}

}  // namespace casetrail::eventstore
