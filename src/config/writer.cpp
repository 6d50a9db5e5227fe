// save_profile_keys / save_rotation: rewrite one profile of the YAML file,
// keeping every other profile and key (yaml-cpp does not keep comments).
#include <charconv>
#include <regex>
#include <set>

#include "bakthat/config.hpp"
#include "bakthat/errors.hpp"
#include "config/files.hpp"

namespace bakthat {
namespace {

// A string that YAML 1.1 (PyYAML, the Python tool) would read back as a bool,
// a number or null if written plain must be quoted to stay a string.
bool needs_quotes(const std::string& s) {
  static const std::regex special(
      R"(^(y|Y|yes|Yes|YES|n|N|no|No|NO|true|True|TRUE|false|False|FALSE|on|On|ON|off|Off|OFF|)"
      R"(null|Null|NULL|~|[-+]?[0-9][0-9_:.eE+-]*|[-+]?\.(inf|Inf|INF|nan|NaN|NAN))$)");
  return s.empty() || std::regex_match(s, special);
}

void emit_string(YAML::Emitter& out, const std::string& s) {
  if (needs_quotes(s)) out << YAML::DoubleQuoted;
  out << s;
}

void emit_node(YAML::Emitter& out, const YAML::Node& n) {
  switch (n.Type()) {
    case YAML::NodeType::Map:
      out << YAML::BeginMap;
      for (const auto& kv : n) {
        out << YAML::Key;
        emit_node(out, kv.first);
        out << YAML::Value;
        emit_node(out, kv.second);
      }
      out << YAML::EndMap;
      break;
    case YAML::NodeType::Sequence:
      out << YAML::BeginSeq;
      for (const auto& item : n) emit_node(out, item);
      out << YAML::EndSeq;
      break;
    case YAML::NodeType::Scalar:
      // Keep what was quoted quoted ("!" is yaml-cpp's tag for a quoted
      // scalar), so a string stays a string for the Python tool too.
      if (n.Tag() == "!") {
        out << YAML::DoubleQuoted << n.Scalar();
      } else {
        out << n.Scalar();
      }
      break;
    default:
      out << YAML::Null;
  }
}

void emit_value(YAML::Emitter& out, const ConfigValue& v) {
  if (auto s = std::get_if<std::string>(&v)) {
    emit_string(out, *s);
  } else if (auto b = std::get_if<bool>(&v)) {
    out << (*b ? "true" : "false");
  } else if (auto i = std::get_if<std::int64_t>(&v)) {
    out << std::to_string(*i);
  } else if (auto l = std::get_if<std::vector<std::string>>(&v)) {
    out << YAML::BeginSeq;
    for (const auto& s : *l) emit_string(out, s);
    out << YAML::EndSeq;
  } else if (auto m = std::get_if<std::map<std::string, std::string>>(&v)) {
    out << YAML::BeginMap;
    for (const auto& [k, sub] : *m) {
      out << YAML::Key << k << YAML::Value;
      emit_string(out, sub);
    }
    out << YAML::EndMap;
  } else if (auto n = std::get_if<std::map<std::string, std::variant<std::int64_t, std::string>>>(&v)) {
    out << YAML::BeginMap;
    for (const auto& [k, sub] : *n) {
      out << YAML::Key << k << YAML::Value;
      if (auto i = std::get_if<std::int64_t>(&sub)) out << std::to_string(*i);
      else emit_string(out, std::get<std::string>(sub));
    }
    out << YAML::EndMap;
  }
}

// Rewrites the file with `profile`'s keys replaced by `changes`.
void update_profile(const std::string& path, const std::string& profile,
                    const std::map<std::string, ConfigValue>& changes) {
  const std::string file = config::expand_user(path);
  YAML::Node doc = config::read_yaml_file(file).value_or(YAML::Node());
  if (!doc.IsNull() && !doc.IsMap())
    throw Error(ErrorKind::Config, file + ": expected a mapping of profile names at the top level");

  YAML::Emitter out;
  out << YAML::BeginMap;
  bool written = false;
  auto emit_profile = [&](const YAML::Node& old) {
    out << YAML::BeginMap;
    if (old.IsMap()) {
      for (const auto& kv : old) {
        if (kv.first.IsScalar() && changes.count(kv.first.Scalar())) continue;
        out << YAML::Key;
        emit_node(out, kv.first);
        out << YAML::Value;
        emit_node(out, kv.second);
      }
    }
    for (const auto& [key, value] : changes) {
      if (std::holds_alternative<std::monostate>(value)) continue;  // removal
      out << YAML::Key << key << YAML::Value;
      emit_value(out, value);
    }
    out << YAML::EndMap;
  };
  if (doc.IsMap()) {
    for (const auto& kv : doc) {
      out << YAML::Key;
      emit_node(out, kv.first);
      out << YAML::Value;
      if (kv.first.IsScalar() && kv.first.Scalar() == profile) {
        emit_profile(kv.second);
        written = true;
      } else {
        emit_node(out, kv.second);
      }
    }
  }
  if (!written) {
    out << YAML::Key << profile << YAML::Value;
    emit_profile(YAML::Node());
  }
  out << YAML::EndMap;
  if (!out.good()) throw Error(ErrorKind::Config, file + ": cannot write YAML: " + out.GetLastError());
  config::write_file_atomic_private(file, std::string(out.c_str()) + "\n");
}

}  // namespace

void save_profile_keys(const std::string& path, const std::string& profile,
                       const std::map<std::string, ConfigValue>& values) {
  update_profile(path, profile.empty() ? "default" : profile, values);
}

void save_profile_keys(const std::string& path, const std::string& profile,
                       const std::map<std::string, std::string>& scalars) {
  static const std::set<std::string> bools = {"compress"};
  static const std::set<std::string> ints = {"threads", "compression_level", "part_size",
                                             "scrypt_work_factor"};
  std::map<std::string, ConfigValue> values;
  for (const auto& [k, v] : scalars) {
    values[k] = v;
    if (bools.count(k)) {
      YAML::Node n(v);
      bool b = false;
      if (YAML::convert<bool>::decode(n, b)) values[k] = b;
    } else if (ints.count(k)) {
      std::int64_t i = 0;
      auto [ptr, ec] = std::from_chars(v.data(), v.data() + v.size(), i);
      if (ec == std::errc() && ptr == v.data() + v.size() && !v.empty()) values[k] = i;
    }
  }
  save_profile_keys(path, profile, values);
}

void save_rotation(const std::string& path, const std::string& profile, const Rotation& rotation) {
  std::map<std::string, std::variant<std::int64_t, std::string>> rot;
  // The Python tool's four keys are always written; the finer ones only when
  // used, so the file stays readable by it.
  rot["days"] = std::int64_t{rotation.days};
  rot["weeks"] = std::int64_t{rotation.weeks};
  rot["months"] = std::int64_t{rotation.months};
  if (rotation.first_week_day_name.empty()) rot["first_week_day"] = std::int64_t{rotation.first_week_day};
  else rot["first_week_day"] = rotation.first_week_day_name;
  if (rotation.years) rot["years"] = std::int64_t{rotation.years};
  if (rotation.hours) rot["hours"] = std::int64_t{rotation.hours};
  if (rotation.minutes) rot["minutes"] = std::int64_t{rotation.minutes};
  if (rotation.seconds) rot["seconds"] = std::int64_t{rotation.seconds};
  save_profile_keys(path, profile, std::map<std::string, ConfigValue>{{"rotation", rot}});
}

std::map<std::string, std::string> profile_as_written(const std::string& path, const std::string& profile) {
  std::map<std::string, std::string> out;
  YAML::Node doc = config::read_yaml_file(config::expand_user(path)).value_or(YAML::Node());
  if (!doc.IsMap()) return out;
  YAML::Node keys = doc[profile.empty() ? "default" : profile];
  if (!keys.IsMap()) return out;
  for (const auto& kv : keys)
    if (kv.first.IsScalar() && kv.second.IsScalar()) out[kv.first.Scalar()] = kv.second.Scalar();
  return out;
}

}  // namespace bakthat
