#include "tests/testing/raw_http2_call.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <deque>
#include <optional>

#include "absl/status/status.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"

namespace casetrail::testing {
namespace {

constexpr char kPreface[] = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
enum FrameType : uint8_t {
  kData = 0x0,
  kHeaders = 0x1,
  kRstStream = 0x3,
  kSettings = 0x4,
  kPing = 0x6,
  kGoAway = 0x7,
  kContinuation = 0x9,
};
constexpr uint8_t kEndStream = 0x1;
constexpr uint8_t kAck = 0x1;
constexpr uint8_t kEndHeaders = 0x4;
constexpr uint8_t kPadded = 0x8;
constexpr uint8_t kPriority = 0x20;
constexpr uint32_t kStream = 1;

// RFC 7541 Appendix A: the static table's names (index 1-61).
constexpr const char* kStaticNames[] = {":authority",
                                        ":method",
                                        ":method",
                                        ":path",
                                        ":path",
                                        ":scheme",
                                        ":scheme",
                                        ":status",
                                        ":status",
                                        ":status",
                                        ":status",
                                        ":status",
                                        ":status",
                                        ":status",
                                        "accept-charset",
                                        "accept-encoding",
                                        "accept-language",
                                        "accept-ranges",
                                        "accept",
                                        "access-control-allow-origin",
                                        "age",
                                        "allow",
                                        "authorization",
                                        "cache-control",
                                        "content-disposition",
                                        "content-encoding",
                                        "content-language",
                                        "content-length",
                                        "content-location",
                                        "content-range",
                                        "content-type",
                                        "cookie",
                                        "date",
                                        "etag",
                                        "expect",
                                        "expires",
                                        "from",
                                        "host",
                                        "if-match",
                                        "if-modified-since",
                                        "if-none-match",
                                        "if-range",
                                        "if-unmodified-since",
                                        "last-modified",
                                        "link",
                                        "location",
                                        "max-forwards",
                                        "proxy-authenticate",
                                        "proxy-authorization",
                                        "range",
                                        "referer",
                                        "refresh",
                                        "retry-after",
                                        "server",
                                        "set-cookie",
                                        "strict-transport-security",
                                        "transfer-encoding",
                                        "user-agent",
                                        "vary",
                                        "via",
                                        "www-authenticate"};
// The values of the entries that have one (index -> value).
std::string StaticValue(size_t index) {
  switch (index) {
    case 2:
      return "GET";
    case 3:
      return "POST";
    case 4:
      return "/";
    case 5:
      return "/index.html";
    case 6:
      return "http";
    case 7:
      return "https";
    case 8:
      return "200";
    case 9:
      return "204";
    case 10:
      return "206";
    case 11:
      return "304";
    case 12:
      return "400";
    case 13:
      return "404";
    case 14:
      return "500";
    case 16:
      return "gzip, deflate";
    default:
      return "";
  }
}
constexpr size_t kStaticSize = sizeof(kStaticNames) / sizeof(kStaticNames[0]);

void AppendFrame(std::string* out, uint8_t type, uint8_t flags, uint32_t stream,
                 const std::string& payload) {
  const uint32_t len = static_cast<uint32_t>(payload.size());
  out->push_back(static_cast<char>(len >> 16));
  out->push_back(static_cast<char>(len >> 8));
  out->push_back(static_cast<char>(len));
  out->push_back(static_cast<char>(type));
  out->push_back(static_cast<char>(flags));
  for (int shift = 24; shift >= 0; shift -= 8) {
    out->push_back(static_cast<char>((stream >> shift) & 0xff));
  }
  out->append(payload);
}

// An HPACK integer with an N-bit prefix (RFC 7541 5.1); `first` holds the
// bits above the prefix.
void AppendInt(std::string* out, uint8_t first, int prefix_bits,
               uint64_t value) {
  const uint64_t max = (1u << prefix_bits) - 1;
  if (value < max) {
    out->push_back(static_cast<char>(first | value));
    return;
  }
  out->push_back(static_cast<char>(first | max));
  value -= max;
  while (value >= 128) {
    out->push_back(static_cast<char>((value & 0x7f) | 0x80));
    value >>= 7;
  }
  out->push_back(static_cast<char>(value));
}

// A literal header field without indexing, new name, no Huffman coding.
void AppendLiteral(std::string* out, const std::string& name,
                   const std::string& value) {
  out->push_back(0x00);
  AppendInt(out, 0x00, 7, name.size());
  out->append(name);
  AppendInt(out, 0x00, 7, value.size());
  out->append(value);
}

// Reads HPACK header blocks (no Huffman coding) into name/value pairs.
class HeaderBlockReader {
 public:
  absl::Status Read(const std::string& block,
                    std::vector<std::pair<std::string, std::string>>* out) {
    size_t i = 0;
    while (i < block.size()) {
      const uint8_t b = static_cast<uint8_t>(block[i]);
      if (b & 0x80) {  // indexed
        uint64_t index = 0;
        if (!Int(block, &i, 7, &index)) return Bad("index");
        std::optional<std::pair<std::string, std::string>> entry = At(index);
        if (!entry) return Bad("index out of range");
        out->push_back(*entry);
      } else if ((b & 0xe0) == 0x20) {  // dynamic table size update
        uint64_t size = 0;
        if (!Int(block, &i, 5, &size)) return Bad("size update");
      } else {
        const bool incremental = (b & 0xc0) == 0x40;
        uint64_t index = 0;
        if (!Int(block, &i, incremental ? 6 : 4, &index)) return Bad("name");
        std::string name;
        if (index == 0) {
          if (!String(block, &i, &name)) return Bad("name string");
        } else {
          std::optional<std::pair<std::string, std::string>> entry = At(index);
          if (!entry) return Bad("name index out of range");
          name = entry->first;
        }
        std::string value;
        if (!String(block, &i, &value)) return Bad("value string");
        if (incremental) dynamic_.emplace_front(name, value);
        out->emplace_back(std::move(name), std::move(value));
      }
    }
    return absl::OkStatus();
  }

 private:
  static absl::Status Bad(absl::string_view what) {
    return absl::InternalError(
        absl::StrCat("cannot read the server's HPACK headers: ", what));
  }
  std::optional<std::pair<std::string, std::string>> At(uint64_t index) const {
    if (index >= 1 && index <= kStaticSize) {
      return std::make_pair(std::string(kStaticNames[index - 1]),
                            StaticValue(index));
    }
    const uint64_t dynamic = index - kStaticSize - 1;
    if (index > kStaticSize && dynamic < dynamic_.size()) {
      return dynamic_[dynamic];
    }
    return std::nullopt;
  }
  static bool Int(const std::string& block, size_t* i, int prefix_bits,
                  uint64_t* value) {
    if (*i >= block.size()) return false;
    const uint64_t max = (1u << prefix_bits) - 1;
    *value = static_cast<uint8_t>(block[(*i)++]) & max;
    if (*value < max) return true;
    for (int shift = 0; shift < 56; shift += 7) {
      if (*i >= block.size()) return false;
      const uint8_t b = static_cast<uint8_t>(block[(*i)++]);
      *value += static_cast<uint64_t>(b & 0x7f) << shift;
      if ((b & 0x80) == 0) return true;
    }
    return false;
  }
  static bool String(const std::string& block, size_t* i, std::string* out) {
    if (*i >= block.size()) return false;
    const bool huffman = static_cast<uint8_t>(block[*i]) & 0x80;
    uint64_t len = 0;
    if (huffman || !Int(block, i, 7, &len) || block.size() - *i < len) {
      return false;
    }
    *out = block.substr(*i, len);
    *i += len;
    return true;
  }

  // Newest first; never evicted (one call's few headers).
  std::deque<std::pair<std::string, std::string>> dynamic_;
};

std::string PercentDecode(const std::string& text) {
  std::string out;
  for (size_t i = 0; i < text.size(); ++i) {
    int byte = 0;
    if (text[i] == '%' && i + 2 < text.size() &&
        absl::SimpleHexAtoi(text.substr(i + 1, 2), &byte)) {
      out.push_back(static_cast<char>(byte));
      i += 2;
    } else {
      out.push_back(text[i]);
    }
  }
  return out;
}

class Connection {
 public:
  explicit Connection(absl::Time deadline) : deadline_(deadline) {}
  ~Connection() {
    if (fd_ >= 0) close(fd_);
  }

  absl::Status Connect(const std::string& address) {
    const size_t colon = address.rfind(':');
    int port = 0;
    if (colon == std::string::npos ||
        !absl::SimpleAtoi(address.substr(colon + 1), &port)) {
      return absl::InvalidArgumentError(absl::StrCat("bad address ", address));
    }
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(port));
    if (inet_pton(AF_INET, address.substr(0, colon).c_str(), &addr.sin_addr) !=
        1) {
      return absl::InvalidArgumentError(absl::StrCat("bad address ", address));
    }
    fd_ = socket(AF_INET, SOCK_STREAM, 0);
    if (fd_ < 0 ||
        connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
      return absl::UnavailableError(
          absl::StrCat("cannot connect to ", address));
    }
    return absl::OkStatus();
  }

  absl::Status Send(const std::string& bytes) {
    size_t sent = 0;
    while (sent < bytes.size()) {
      const ssize_t n =
          send(fd_, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
      if (n <= 0) return absl::UnavailableError("the server closed the call");
      sent += static_cast<size_t>(n);
    }
    return absl::OkStatus();
  }

  absl::Status Receive(size_t n, std::string* out) {
    out->clear();
    while (out->size() < n) {
      const absl::Duration left = deadline_ - absl::Now();
      if (left <= absl::ZeroDuration()) {
        return absl::DeadlineExceededError("no answer in time");
      }
      pollfd p{fd_, POLLIN, 0};
      if (poll(&p, 1, static_cast<int>(absl::ToInt64Milliseconds(left)) + 1) <=
          0) {
        continue;
      }
      char buffer[4096];
      const ssize_t got =
          recv(fd_, buffer, std::min(sizeof(buffer), n - out->size()), 0);
      if (got <= 0) {
        return absl::UnavailableError("the server closed the connection");
      }
      out->append(buffer, static_cast<size_t>(got));
    }
    return absl::OkStatus();
  }

 private:
  const absl::Time deadline_;
  int fd_ = -1;
};

}  // namespace

absl::StatusOr<RawGrpcResponse> RawGrpcCall(
    const std::string& address, const std::string& method,
    const std::vector<std::pair<std::string, std::string>>& headers,
    const std::string& request, absl::Duration timeout) {
  Connection connection(absl::Now() + timeout);
  if (absl::Status s = connection.Connect(address); !s.ok()) return s;

  std::string block;
  AppendLiteral(&block, ":method", "POST");
  AppendLiteral(&block, ":scheme", "http");
  AppendLiteral(&block, ":path", method);
  AppendLiteral(&block, ":authority", address);
  AppendLiteral(&block, "content-type", "application/grpc");
  AppendLiteral(&block, "te", "trailers");
  for (const auto& [name, value] : headers) AppendLiteral(&block, name, value);
  std::string message(5, '\0');  // uncompressed, 4-byte big-endian length
  for (int i = 0; i < 4; ++i) {
    message[1 + i] = static_cast<char>((request.size() >> (24 - 8 * i)) & 0xff);
  }
  message += request;
  std::string out = kPreface;
  AppendFrame(&out, kSettings, 0, 0, "");
  AppendFrame(&out, kHeaders, kEndHeaders, kStream, block);
  AppendFrame(&out, kData, kEndStream, kStream, message);
  if (absl::Status s = connection.Send(out); !s.ok()) return s;

  RawGrpcResponse response;
  HeaderBlockReader reader;
  std::string fragments;
  bool last_headers = false;  // the open header block ends the stream
  std::string data;
  for (;;) {
    std::string head;
    if (absl::Status s = connection.Receive(9, &head); !s.ok()) return s;
    const auto u8 = [&](size_t i) { return static_cast<uint8_t>(head[i]); };
    const size_t length = (u8(0) << 16) | (u8(1) << 8) | u8(2);
    const uint8_t type = u8(3);
    const uint8_t flags = u8(4);
    const uint32_t stream =
        ((u8(5) & 0x7f) << 24) | (u8(6) << 16) | (u8(7) << 8) | u8(8);
    std::string payload;
    if (absl::Status s = connection.Receive(length, &payload); !s.ok()) {
      return s;
    }
    if (type == kSettings && !(flags & kAck)) {
      std::string ack;
      AppendFrame(&ack, kSettings, kAck, 0, "");
      if (absl::Status s = connection.Send(ack); !s.ok()) return s;
    } else if (type == kPing && !(flags & kAck)) {
      std::string pong;
      AppendFrame(&pong, kPing, kAck, 0, payload);
      if (absl::Status s = connection.Send(pong); !s.ok()) return s;
    } else if (type == kGoAway || (type == kRstStream && stream == kStream)) {
      return absl::UnavailableError("the server reset the call");
    } else if (stream == kStream && type == kData) {
      size_t start = 0;
      size_t end = payload.size();
      if (flags & kPadded) {
        start = 1;
        end -= static_cast<uint8_t>(payload[0]);
      }
      data += payload.substr(start, end - start);
    } else if (stream == kStream &&
               (type == kHeaders || type == kContinuation)) {
      size_t start = 0;
      size_t end = payload.size();
      if (type == kHeaders && (flags & kPadded)) {
        start = 1;
        end -= static_cast<uint8_t>(payload[0]);
      }
      if (type == kHeaders && (flags & kPriority)) start += 5;
      if (type == kHeaders) last_headers = flags & kEndStream;
      fragments += payload.substr(start, end - start);
      if (flags & kEndHeaders) {
        std::vector<std::pair<std::string, std::string>> fields;
        if (absl::Status s = reader.Read(fragments, &fields); !s.ok()) {
          return s;
        }
        fragments.clear();
        for (const auto& [name, value] : fields) {
          if (name == "grpc-status") {
            response.status = std::atoi(value.c_str());
          } else if (name == "grpc-message") {
            response.message = PercentDecode(value);
          }
        }
      }
      if (last_headers && (flags & kEndHeaders)) break;
    }
  }
  if (data.size() >= 5) response.body = data.substr(5);
  return response;
}

}  // namespace casetrail::testing
