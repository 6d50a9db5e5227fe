#include "bakthat/key_value.hpp"

#include "ops/context.hpp"
#include "util/string_stream.hpp"

namespace bakthat {
namespace {

// Values live in memory on both ends (JSON is parsed whole), so they are
// bounded.
constexpr std::size_t kMaxValueBytes = 64u << 20;

class BoundedStringSink : public Sink {
 public:
  explicit BoundedStringSink(const std::string& key) : key_(key) {}
  void write(Bytes data) override {
    if (text_.size() + data.size() > kMaxValueBytes)
      throw Error(ErrorKind::Corrupt, "the value of key '" + key_ + "' is larger than 64 MiB");
    text_.append(reinterpret_cast<const char*>(data.data()), data.size());
  }
  void finish() override {}
  const std::string& text() const { return text_; }

 private:
  const std::string& key_;
  std::string text_;
};

}  // namespace

KeyValue::KeyValue(Options options) : options_(std::move(options)) {}

std::vector<BackupRecord> KeyValue::records(const std::string& key) {
  if (key.empty() || key.find('/') != std::string::npos)
    throw Error(ErrorKind::Usage, "a key must be a non-empty name without '/'");
  ShowOptions s;
  static_cast<Options&>(s) = options_;
  s.query = key;
  s.all_destinations = false;
  s.this_profile_only = true;
  std::vector<BackupRecord> out;
  for (auto& r : show(s)) {
    if (r.filename == key && r.metadata.is_object() && r.metadata.value("KeyValue", false)) out.push_back(std::move(r));
  }
  return out;
}

std::optional<BackupRecord> KeyValue::find(const std::string& key) {
  auto recs = records(key);
  if (recs.empty()) return std::nullopt;
  return recs.front();
}

BackupRecord KeyValue::set_key(const std::string& key, const nlohmann::json& value, const SetOptions& options) {
  auto older = records(key);
  std::string text = value.dump();
  if (text.size() > kMaxValueBytes) throw Error(ErrorKind::Usage, "the value of key '" + key + "' is larger than 64 MiB");

  BackupOptions b;
  static_cast<Options&>(b) = options_;
  if (options.password) b.password = options.password;
  b.tags = options.tags;
  b.compress = options.compress;
  bool gzip = options.compress && load_profile(options_.config).compression == "gzip";
  b.extra_metadata = {{"KeyValue", true}, {"is_gzipped", gzip}};
  util::StringSource in(std::move(text));
  BackupRecord stored = backup_stream(in, key, b);

  // The new value is recorded: the older ones go. A failure here leaves an
  // older value behind, which get_key never returns (it takes the newest).
  Reporter& rep = options_.reporter ? *options_.reporter : silent_reporter();
  for (const auto& r : older) {
    try {
      bakthat::remove(r.stored_filename, options_);
    } catch (const Error& e) {
      rep.warning("key '" + key + "': the older value " + r.stored_filename + " was not deleted: " + e.what());
    }
  }
  return stored;
}

nlohmann::json KeyValue::get_key(const std::string& key, const GetOptions& options) {
  auto recs = records(key);
  if (recs.empty()) {
    if (options.default_value) return *options.default_value;
    throw Error(ErrorKind::NotFound, "no key '" + key + "'");
  }
  BoundedStringSink collected(key);
  RestoreOptions r;
  static_cast<Options&>(r) = options_;
  if (options.password) r.password = options.password;
  r.to_stdout = true;
  r.out = &collected;
  RestoreResult result = bakthat::restore(recs.front().stored_filename, r);
  if (result.state != RestoreState::Restored)
    throw Error(ErrorKind::Storage, "the value of key '" + key +
                                        "' is in an archive tier and is being retrieved: try again later");
  try {
    return nlohmann::json::parse(collected.text());
  } catch (const nlohmann::json::parse_error&) {
    throw Error(ErrorKind::Corrupt, "the value of key '" + key + "' (" + recs.front().stored_filename +
                                        ") is not JSON");
  }
}

std::string KeyValue::get_key_url(const std::string& key, std::int64_t expires_seconds, const std::string& method) {
  if (expires_seconds <= 0) throw Error(ErrorKind::Usage, "a URL's lifetime must be a positive number of seconds");
  auto recs = records(key);
  if (recs.empty()) throw Error(ErrorKind::NotFound, "no key '" + key + "'");
  ops::Context ctx(options_);
  return ctx.storage().presign(recs.front().stored_filename, method, expires_seconds);
}

bool KeyValue::delete_key(const std::string& key) {
  auto recs = records(key);
  for (const auto& r : recs) bakthat::remove(r.stored_filename, options_);
  return !recs.empty();
}

}  // namespace bakthat
