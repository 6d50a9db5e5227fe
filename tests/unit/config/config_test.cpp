#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "bakthat/config.hpp"
#include "bakthat/errors.hpp"

namespace fs = std::filesystem;
using namespace bakthat;

namespace {

// Each test gets a scratch HOME and a clean environment for the variables
// the configuration reads.
class ConfigTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/bakthat-config-test-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    home_ = tmpl;
    saved_home_ = getenv("HOME") ? getenv("HOME") : "";
    setenv("HOME", home_.c_str(), 1);
    for (const char* v : kVars) unsetenv(v);
  }
  void TearDown() override {
    setenv("HOME", saved_home_.c_str(), 1);
    for (const char* v : kVars) unsetenv(v);
    fs::remove_all(home_);
  }
  std::string write(const std::string& name, const std::string& text) {
    std::string path = home_ + "/" + name;
    std::ofstream(path) << text;
    chmod(path.c_str(), 0600);  // as configure writes it: no warning about secrets
    return path;
  }
  Profile load(const std::string& yaml, const std::string& profile = "") {
    return load_profile({write("c.yml", yaml), profile, std::nullopt});
  }
  std::string error_of(const std::string& yaml, const std::string& profile = "") {
    try {
      load(yaml, profile);
    } catch (const Error& e) {
      EXPECT_EQ(e.kind(), ErrorKind::Config);
      return e.what();
    }
    ADD_FAILURE() << "no error for: " << yaml;
    return "";
  }

  static constexpr const char* kVars[] = {
      "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL",
      "AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL_GLACIER", "AWS_REGION", "AWS_DEFAULT_REGION", "BAKTHAT_DB", "XDG_DATA_HOME"};
  std::string home_, saved_home_;
};

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

}  // namespace

TEST_F(ConfigTest, MissingFileGivesDefaults) {
  Profile p = load_profile({});
  EXPECT_EQ(p.name, "default");
  EXPECT_EQ(p.default_destination, "local");
  EXPECT_TRUE(p.compress);
  EXPECT_EQ(p.region_name, "us-east-1");
  EXPECT_EQ(p.compression, "gzip");
  EXPECT_FALSE(p.compression_level);
  EXPECT_EQ(p.local_path, home_ + "/.local/share/bakthat/store");
  EXPECT_EQ(p.database, home_ + "/.bakthat.sqlite");
  EXPECT_EQ(p.threads, int(std::max(1u, std::thread::hardware_concurrency())));
  EXPECT_EQ(p.part_size, 0u);
  EXPECT_EQ(p.s3_addressing_style, "auto");
  EXPECT_EQ(p.s3_storage_class, "STANDARD");
  EXPECT_EQ(p.glacier_storage_class, "GLACIER");
  EXPECT_EQ(p.glacier_tier, "Standard");
  EXPECT_FALSE(p.rotation.configured());
  EXPECT_EQ(p.scrypt_work_factor, 18);
  EXPECT_TRUE(p.access_key.empty());
  EXPECT_EQ(config_path({}), home_ + "/.bakthat.yml");
}

TEST_F(ConfigTest, ReadsTheDefaultFileInHome) {
  write(".bakthat.yml", "default:\n  s3_bucket: b\n");
  Profile p = load_profile({});
  EXPECT_EQ(p.s3_bucket, "b");
  EXPECT_EQ(p.default_destination, "s3");
}

TEST_F(ConfigTest, EveryKey) {
  Profile p = load(R"(
default:
  access_key: AK
  secret_key: SK
  session_token: ST
  region_name: eu-west-1
  s3_bucket: bucket
  glacier_vault: vault
  default_destination: glacier
  compress: no
  rotation: {days: 7, weeks: 4, months: 6, years: 2, hours: 1, minutes: 2, seconds: 3, first_week_day: 0}
  auth_url: http://127.0.0.1:18080/auth/v1.0
  auth_version: 1
  plugins_dir: ~/plugins
  plugins: [a.b.C, d.E]
  s3_endpoint: http://127.0.0.1:15000
  glacier_endpoint: http://127.0.0.1:15001
  s3_addressing_style: path
  s3_storage_class: standard_ia
  glacier_storage_class: DEEP_ARCHIVE
  glacier_tier: bulk
  local_path: ~/store
  compression: zstd
  compression_level: 19
  threads: 3
  part_size: 8MiB
  recipients: [age1aaa, age1bbb]
  identity_file: ~/id.txt
  database: ~/cat.sqlite
  hooks: {before_backup: "echo hi", after_backup: "true"}
  scrypt_work_factor: 12
  some_future_key: {nested: [1, 2]}
other:
  s3_bucket: x
sync:
  url: http://example
)");
  EXPECT_EQ(p.access_key, "AK");
  EXPECT_EQ(p.secret_key, "SK");
  EXPECT_EQ(p.session_token, "ST");
  EXPECT_EQ(p.region_name, "eu-west-1");
  EXPECT_EQ(p.s3_bucket, "bucket");
  EXPECT_EQ(p.glacier_vault, "vault");
  EXPECT_EQ(p.default_destination, "glacier");
  EXPECT_FALSE(p.compress);
  EXPECT_EQ(p.rotation.days, 7);
  EXPECT_EQ(p.rotation.weeks, 4);
  EXPECT_EQ(p.rotation.months, 6);
  EXPECT_EQ(p.rotation.years, 2);
  EXPECT_EQ(p.rotation.hours, 1);
  EXPECT_EQ(p.rotation.minutes, 2);
  EXPECT_EQ(p.rotation.seconds, 3);
  EXPECT_EQ(p.rotation.first_week_day, 0);
  EXPECT_EQ(p.auth_url, "http://127.0.0.1:18080/auth/v1.0");
  EXPECT_EQ(p.auth_version, "1");
  EXPECT_EQ(p.plugins_dir, home_ + "/plugins");
  EXPECT_EQ(p.plugins, (std::vector<std::string>{"a.b.C", "d.E"}));
  EXPECT_EQ(p.s3_endpoint, "http://127.0.0.1:15000");
  EXPECT_EQ(p.glacier_endpoint, "http://127.0.0.1:15001");
  EXPECT_EQ(p.s3_addressing_style, "path");
  EXPECT_EQ(p.s3_storage_class, "STANDARD_IA");
  EXPECT_EQ(p.glacier_storage_class, "DEEP_ARCHIVE");
  EXPECT_EQ(p.glacier_tier, "Bulk");
  EXPECT_EQ(p.local_path, home_ + "/store");
  EXPECT_EQ(p.compression, "zstd");
  EXPECT_EQ(p.compression_level, 19);
  EXPECT_EQ(p.threads, 3);
  EXPECT_EQ(p.part_size, 8u * 1024 * 1024);
  EXPECT_EQ(p.recipients, (std::vector<std::string>{"age1aaa", "age1bbb"}));
  EXPECT_EQ(p.identity_file, home_ + "/id.txt");
  EXPECT_EQ(p.database, home_ + "/cat.sqlite");
  EXPECT_EQ(p.hooks.at("before_backup"), "echo hi");
  EXPECT_EQ(p.hooks.at("after_backup"), "true");
  EXPECT_EQ(p.scrypt_work_factor, 12);
}

TEST_F(ConfigTest, PythonToolFile) {
  // A file as the Python bakthat's `configure` wrote it.
  Profile p = load(
      "default:\n  access_key: AKIA\n  secret_key: s/e+c\n  region_name: us-east-1\n"
      "  s3_bucket: mybucket\n  glacier_vault: myvault\n  default_destination: s3\n"
      "  rotation:\n    days: 7\n    first_week_day: 5\n    months: 6\n    weeks: 6\n");
  EXPECT_EQ(p.default_destination, "s3");
  EXPECT_EQ(p.secret_key, "s/e+c");
  EXPECT_EQ(p.rotation.first_week_day, 5);
  EXPECT_TRUE(p.rotation.configured());
}

TEST_F(ConfigTest, NamedProfile) {
  const char* yaml = "default:\n  s3_bucket: a\nwork:\n  s3_bucket: b\n  compress: true\n";
  EXPECT_EQ(load(yaml, "work").s3_bucket, "b");
  EXPECT_EQ(load(yaml, "work").name, "work");
  EXPECT_EQ(load(yaml).s3_bucket, "a");
}

TEST_F(ConfigTest, MissingProfile) {
  std::string msg = error_of("default:\n  s3_bucket: a\n", "nope");
  EXPECT_EQ(msg, "profile 'nope' not found in " + home_ + "/c.yml");
  EXPECT_NE(error_of("other:\n  s3_bucket: a\n").find("profile 'default' not found"), std::string::npos);
  // A misspelt default is not the local store in disguise.
  EXPECT_NE(error_of("defualt:\n  s3_bucket: a\nsync:\n  url: http://h\n").find("profile 'default' not found"),
            std::string::npos);
  // A file with only a `sync:` block leaves every default.
  EXPECT_EQ(load("sync:\n  url: http://h\n").s3_bucket, "");
  EXPECT_NE(error_of("sync:\n  url: http://h\n", "work").find("profile 'work' not found"), std::string::npos);
}

// Without ~/.bakthat.yml every default applies, but a file or profile named
// on purpose must exist: a typo would otherwise mean the local store.
TEST_F(ConfigTest, NamedFileOrProfileThatDoesNotExist) {
  try {
    load_profile({home_ + "/prod.yml", "", std::nullopt});
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()), "config file " + home_ + "/prod.yml not found");
    EXPECT_EQ(e.kind(), ErrorKind::Config);
  }
  try {
    load_profile({"", "work", std::nullopt});
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()), "profile 'work' not found in " + home_ + "/.bakthat.yml");
  }
  EXPECT_EQ(load_profile({"", "default", std::nullopt}).default_destination, "local");
}

TEST_F(ConfigTest, SyncBlock) {
  std::string path = write("s.yml", "default:\n  s3_bucket: a\nsync:\n  url: https://sync.example/api/\n"
                                    "  username: me\n  password: 'p: w'\n  auto: true\n");
  auto s = load_sync_settings({path, "", std::nullopt});
  ASSERT_TRUE(s);
  EXPECT_EQ(s->url, "https://sync.example/api");
  EXPECT_EQ(s->username, "me");
  EXPECT_EQ(s->password, "p: w");
  EXPECT_TRUE(s->auto_sync);
  // Read from the file even when the profile comes from `conf`.
  EXPECT_TRUE(load_sync_settings({path, "", std::string("s3_bucket: b")}));
  EXPECT_FALSE(load_sync_settings({write("n.yml", "default:\n  s3_bucket: a\n"), "", std::nullopt}));
  EXPECT_FALSE(load_sync_settings({}));  // no ~/.bakthat.yml
  EXPECT_THROW(load_sync_settings({home_ + "/missing.yml", "", std::nullopt}), Error);
  // No url: the catalog syncs through the destination.
  auto through_destination = load_sync_settings({write("d.yml", "sync:\n  auto: true\n"), "", std::nullopt});
  ASSERT_TRUE(through_destination);
  EXPECT_EQ(through_destination->url, "");
  EXPECT_TRUE(through_destination->auto_sync);

  auto error = [&](const std::string& yaml) -> std::string {
    try {
      load_sync_settings({write("e.yml", yaml), "", std::nullopt});
    } catch (const Error& e) {
      EXPECT_EQ(e.kind(), ErrorKind::Config);
      return e.what();
    }
    ADD_FAILURE() << "no error for: " << yaml;
    return "";
  };
  EXPECT_NE(error("sync:\n  username: me\n").find("has no url"), std::string::npos);
  EXPECT_NE(error("sync:\n  url: ftp://h\n").find("http:// or https://"), std::string::npos);
  EXPECT_NE(error("sync: [1]\n").find("'sync' must be a mapping"), std::string::npos);
  EXPECT_NE(error("sync:\n  url: http://h\n  auto: maybe\n").find("the 'sync' block: key 'auto'"),
            std::string::npos);
  std::string msg = error("sync:\n  url: http://me:secret@h/x\n");
  EXPECT_NE(msg.find("holds credentials"), std::string::npos);
  EXPECT_EQ(msg.find("secret"), std::string::npos);
  msg = error("sync:\n  url: http://h\n  password: [hidden]\n");
  EXPECT_EQ(msg.find("hidden"), std::string::npos) << msg;
  // An @ in the path is not a credential.
  EXPECT_TRUE(load_sync_settings({write("ok.yml", "sync:\n  url: http://h/@me\n"), "", std::nullopt}));
}

// The reader's warnings, a line each.
static std::string lines_of(const std::vector<std::string>& warnings) {
  std::string out;
  for (const auto& w : warnings) out += w + "\n";
  return out;
}

// Like ssh for keys: a file with secrets that others may read gets a
// warning naming the file, never the secret (the sync settings read from it
// carry it too; the operations report each text once).
TEST_F(ConfigTest, SecretsInAFileOthersCanReadAreWarnedOf) {
  auto warnings_of = [&](const std::string& name, const std::string& yaml, mode_t mode) {
    std::string path = write(name, yaml);
    EXPECT_EQ(chmod(path.c_str(), mode), 0);
    std::string profile = lines_of(load_profile({path, "", std::nullopt}).warnings);
    auto sync = load_sync_settings({path, "", std::nullopt});
    if (sync) {
      EXPECT_EQ(lines_of(sync->warnings), profile);
    }
    return profile;
  };
  std::string err = warnings_of("open.yml", "default:\n  secret_key: SEKRIT\n", 0644);
  EXPECT_EQ(err, home_ + "/open.yml holds secrets and is readable by others: run `chmod 600 " + home_ + "/open.yml`\n");
  EXPECT_NE(warnings_of("group.yml", "default: {}\nsync:\n  url: http://h\n  password: SEKRIT\n", 0640),
            "");
  EXPECT_NE(warnings_of("other.yml", "default: {}\nwork:\n  secret_key: SEKRIT\n", 0604), "");
  EXPECT_EQ(warnings_of("private.yml", "default:\n  secret_key: SEKRIT\n", 0600), "");
  EXPECT_EQ(warnings_of("plain.yml", "default:\n  access_key: AK\n  s3_bucket: b\n", 0644), "");
}

// A misspelt key or hook event would be ignored without a word (s3-bucket:
// backs up to the local store; after_backup: never runs): each unknown one
// gets one warning naming the file, the profile and the key, never its
// value. Keys that only the Python bakthat read are accepted silently.
TEST_F(ConfigTest, UnknownKeysAndHookEventsAreWarnedOf) {
  auto warnings_of = [&](const std::string& name, const std::string& yaml, const std::string& profile = "") {
    return lines_of(load_profile({write(name, yaml), profile, std::nullopt}).warnings);
  };
  std::string err = warnings_of("typo.yml", "default:\n  s3-bucket: SEKRIT-bucket\n  s3_bucket: b\n");
  EXPECT_EQ(err, home_ + "/typo.yml: profile 'default': unknown key 's3-bucket' "
                 "(did you mean 's3_bucket'?); it is ignored\n");
  err = warnings_of("hook.yml", "work:\n  hooks:\n    after_backup: echo SEKRIT\n    on_backup: echo ok\n"
                    "    before_restor: x\n", "work");
  EXPECT_EQ(err, home_ + "/hook.yml: profile 'work': unknown hook event 'after_backup' "
                 "(did you mean 'on_backup'?); it never runs\n" +
                 home_ + "/hook.yml: profile 'work': unknown hook event 'before_restor' "
                 "(did you mean 'before_restore'?); it never runs\n");
  err = warnings_of("rot.yml", "default:\n  rotation:\n    day: 3\n  zzz_unrelated: 1\n");
  EXPECT_NE(err.find("unknown key 'rotation.day' (did you mean 'rotation.days'?)"), std::string::npos) << err;
  EXPECT_NE(err.find("unknown key 'zzz_unrelated'; it is ignored\n"), std::string::npos) << err;
  EXPECT_EQ(std::count(err.begin(), err.end(), '\n'), 2) << err;
  EXPECT_EQ(err.find("SEKRIT"), std::string::npos);
  // What the Python tool's configure and configure_backups_rotation wrote,
  // and its bakmanager.io keys: no warning.
  EXPECT_EQ(warnings_of("python.yml",
                        "default:\n  access_key: AK\n  secret_key: SK\n  s3_bucket: b\n  glacier_vault: v\n"
                        "  default_destination: swift\n  region_name: eu-west-1\n  auth_version: '2'\n"
                        "  auth_url: http://a\n  bakmanager_token: T\n  bakmanager_api: http://m\n"
                        "  rotation:\n    days: 7\n    weeks: 6\n    months: 6\n    first_week_day: 5\n"
                        "  hooks:\n    before_backup: x\n    on_rotate_backups: y\n"),
            "");
  // The sync block's keys too.
  std::string path = write("sync.yml", "sync:\n  url: http://h\n  usrname: me\n");
  EXPECT_EQ(lines_of(load_sync_settings({path, "", std::nullopt})->warnings),
            path + ": the 'sync' block: unknown key 'usrname' (did you mean 'username'?); it is ignored\n");
}

TEST_F(ConfigTest, EmptyFileAndEmptyProfile) {
  EXPECT_EQ(load("").default_destination, "local");
  EXPECT_EQ(load("default:\n").default_destination, "local");
  EXPECT_EQ(load("default:\n  s3_bucket:\n").s3_bucket, "");
}

TEST_F(ConfigTest, BrokenYaml) {
  std::string msg = error_of("default:\n  s3_bucket: a\n  bad: [unclosed\n");
  EXPECT_EQ(msg.rfind(home_ + "/c.yml: invalid YAML at line ", 0), 0u) << msg;
  msg = error_of("default:\n  a: b\n c: d\n");
  EXPECT_NE(msg.find("invalid YAML at line 3"), std::string::npos) << msg;
}

TEST_F(ConfigTest, TopLevelMustBeAMapping) {
  EXPECT_NE(error_of("- a\n- b\n").find("mapping of profile names"), std::string::npos);
  EXPECT_NE(error_of("default: [1]\n").find("profile 'default' must be a mapping"), std::string::npos);
}

TEST_F(ConfigTest, BadValues) {
  const std::string f = home_ + "/c.yml: profile 'default': key ";
  EXPECT_EQ(error_of("default:\n  threads: x\n"), f + "'threads' must be a positive integer (got 'x')");
  EXPECT_EQ(error_of("default:\n  threads: 0\n"), f + "'threads' must be a positive integer (got '0')");
  EXPECT_EQ(error_of("default:\n  threads: 1.5\n"), f + "'threads' must be a positive integer (got '1.5')");
  EXPECT_EQ(error_of("default:\n  threads: [1]\n"), f + "'threads' must be a positive integer (got a list)");
  EXPECT_EQ(error_of("default:\n  compress: maybe\n"), f + "'compress' must be true or false (got 'maybe')");
  EXPECT_EQ(error_of("default:\n  default_destination: ftp\n"),
            f + "'default_destination' must be one of s3, glacier, swift, local (got 'ftp')");
  EXPECT_NE(error_of("default:\n  compression: lz4\n").find("'compression' must be one of gzip, zstd"),
            std::string::npos);
  EXPECT_NE(error_of("default:\n  compression_level: 13\n").find("gzip level 0..12"), std::string::npos);
  EXPECT_NE(error_of("default:\n  compression: zstd\n  compression_level: 0\n").find("zstd level 1..19"),
            std::string::npos);
  EXPECT_NE(error_of("default:\n  compression: zstd\n  compression_level: 20\n").find("zstd level"),
            std::string::npos);
  EXPECT_NE(error_of("default:\n  s3_addressing_style: sideways\n").find("'s3_addressing_style'"),
            std::string::npos);
  EXPECT_NE(error_of("default:\n  auth_version: 4\n").find("'auth_version'"), std::string::npos);
  EXPECT_NE(error_of("default:\n  s3_storage_class: CHEAP\n").find("'s3_storage_class'"), std::string::npos);
  EXPECT_NE(error_of("default:\n  glacier_storage_class: STANDARD\n").find("'glacier_storage_class'"),
            std::string::npos);
  EXPECT_NE(error_of("default:\n  glacier_tier: Fast\n").find("'glacier_tier'"), std::string::npos);
  EXPECT_NE(error_of("default:\n  part_size: 1048576\n").find("'part_size'"), std::string::npos);
  EXPECT_NE(error_of("default:\n  part_size: 6GiB\n").find("'part_size'"), std::string::npos);
  EXPECT_NE(error_of("default:\n  part_size: 8 parsecs\n").find("'part_size'"), std::string::npos);
  EXPECT_NE(error_of("default:\n  rotation: 7\n").find("'rotation' must be a mapping"), std::string::npos);
  EXPECT_NE(error_of("default:\n  rotation: {days: -1}\n").find("'rotation.days'"), std::string::npos);
  EXPECT_NE(error_of("default:\n  rotation: {first_week_day: 7}\n").find("'rotation.first_week_day'"),
            std::string::npos);
  EXPECT_NE(error_of("default:\n  rotation: {first_week_day: caturday}\n").find("'rotation.first_week_day'"),
            std::string::npos);
  EXPECT_NE(error_of("default:\n  recipients: {a: b}\n").find("'recipients' must be a list"), std::string::npos);
  EXPECT_NE(error_of("default:\n  plugins: [[a]]\n").find("'plugins'"), std::string::npos);
  EXPECT_NE(error_of("default:\n  hooks: [a]\n").find("'hooks' must be a mapping"), std::string::npos);
  EXPECT_NE(error_of("default:\n  hooks: {before_backup: [a]}\n").find("'hooks.before_backup'"),
            std::string::npos);
  EXPECT_NE(error_of("default:\n  s3_bucket: [a]\n").find("'s3_bucket' must be a string"), std::string::npos);
  EXPECT_NE(error_of("default:\n  scrypt_work_factor: 30\n").find("'scrypt_work_factor'"), std::string::npos);
  // A secret's value never appears in a message.
  std::string msg = error_of("default:\n  secret_key: [hunter2]\n");
  EXPECT_EQ(msg.find("hunter2"), std::string::npos);
}

TEST_F(ConfigTest, GoodEdgeValues) {
  EXPECT_EQ(load("default:\n  compression_level: 0\n").compression_level, 0);
  EXPECT_EQ(load("default:\n  compression_level: 12\n").compression_level, 12);
  EXPECT_EQ(load("default:\n  compression: zstd\n  compression_level: 1\n").compression_level, 1);
  EXPECT_EQ(load("default:\n  part_size: 5242880\n").part_size, 5242880u);
  EXPECT_EQ(load("default:\n  part_size: 1G\n").part_size, 1024u * 1024 * 1024);
  EXPECT_EQ(load("default:\n  part_size: 64MB\n").part_size, 64u * 1024 * 1024);
  EXPECT_EQ(load("default:\n  threads: 1\n").threads, 1);
  EXPECT_EQ(load("default:\n  compress: True\n").compress, true);
  EXPECT_EQ(load("default:\n  compress: off\n").compress, false);
  EXPECT_EQ(load("default:\n  auth_version: '2.0'\n").auth_version, "2");
  EXPECT_EQ(load("default:\n  auth_version: 3\n").auth_version, "3");
  EXPECT_EQ(load("default:\n  recipients: age1single\n").recipients,
            (std::vector<std::string>{"age1single"}));
  EXPECT_EQ(load("default:\n  s3_bucket: 12345\n").s3_bucket, "12345");
  EXPECT_EQ(load("default:\n  default_destination: Swift\n").default_destination, "swift");
}

TEST_F(ConfigTest, WeekDayNames) {
  EXPECT_EQ(load("default:\n  rotation: {first_week_day: saturday}\n").rotation.first_week_day, 5);
  EXPECT_EQ(load("default:\n  rotation: {first_week_day: Saturday}\n").rotation.first_week_day, 5);
  EXPECT_EQ(load("default:\n  rotation: {first_week_day: MONDAY}\n").rotation.first_week_day, 0);
  EXPECT_EQ(load("default:\n  rotation: {first_week_day: sun}\n").rotation.first_week_day, 6);
  EXPECT_EQ(load("default:\n  rotation: {first_week_day: '3'}\n").rotation.first_week_day, 3);
  EXPECT_EQ(load("default:\n  rotation: {days: 3}\n").rotation.first_week_day, 5);
}

TEST_F(ConfigTest, ConfYamlReplacesTheFileProfile) {
  std::string path = write("c.yml", "default:\n  s3_bucket: fromfile\n  compress: false\n");
  Profile p = load_profile({path, "", std::string("s3_bucket: fromconf\nthreads: 2\n")});
  EXPECT_EQ(p.s3_bucket, "fromconf");
  EXPECT_EQ(p.threads, 2);
  EXPECT_TRUE(p.compress);  // the file's profile is not merged in
  // Errors name the conf mapping; the file is not even read.
  try {
    load_profile({home_ + "/missing.yml", "nope", std::string("threads: -3\n")});
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()), "conf: profile 'nope': key 'threads' must be a positive integer (got '-3')");
  }
  EXPECT_EQ(load_profile({"", "", std::string("")}).default_destination, "local");
}

TEST_F(ConfigTest, EnvironmentDefaults) {
  setenv("AWS_ACCESS_KEY_ID", "envak", 1);
  setenv("AWS_SECRET_ACCESS_KEY", "envsk", 1);
  setenv("AWS_SESSION_TOKEN", "envst", 1);
  setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9", 1);
  setenv("AWS_REGION", "ap-south-1", 1);
  setenv("BAKTHAT_DB", "~/env.sqlite", 1);
  setenv("XDG_DATA_HOME", (home_ + "/xdg").c_str(), 1);
  Profile p = load("default:\n  s3_bucket: b\n");
  EXPECT_EQ(p.access_key, "envak");
  EXPECT_EQ(p.secret_key, "envsk");
  EXPECT_EQ(p.session_token, "envst");
  EXPECT_EQ(p.s3_endpoint, "http://127.0.0.1:9");
  EXPECT_EQ(p.glacier_endpoint, "http://127.0.0.1:9");
  EXPECT_EQ(p.region_name, "ap-south-1");
  EXPECT_EQ(p.database, home_ + "/env.sqlite");
  EXPECT_EQ(p.local_path, home_ + "/xdg/bakthat/store");

  // The file's values win over the environment.
  p = load("default:\n  access_key: fak\n  secret_key: fsk\n  s3_endpoint: http://x\n"
           "  region_name: eu-west-3\n  database: /tmp/x.sqlite\n  local_path: /srv/store/\n");
  EXPECT_EQ(p.access_key, "fak");
  EXPECT_EQ(p.secret_key, "fsk");
  EXPECT_EQ(p.session_token, "");
  EXPECT_EQ(p.s3_endpoint, "http://x");
  EXPECT_EQ(p.region_name, "eu-west-3");
  EXPECT_EQ(p.database, "/tmp/x.sqlite");
  EXPECT_EQ(p.local_path, "/srv/store");

  // A relative XDG_DATA_HOME is ignored, as the XDG spec says.
  setenv("XDG_DATA_HOME", "relative", 1);
  EXPECT_EQ(load("default: {}\n").local_path, home_ + "/.local/share/bakthat/store");
}

TEST_F(ConfigTest, RelativeLocalPathIsMadeAbsolute) {
  Profile p = load("default:\n  local_path: rel/store\n");
  EXPECT_EQ(p.local_path, (fs::current_path() / "rel/store").string());
}

TEST_F(ConfigTest, SaveKeepsOtherProfilesAndIsPrivate) {
  std::string path = write("c.yml",
                           "default:\n  s3_bucket: keep\n  rotation: {days: 3}\n"
                           "other:\n  s3_bucket: o\n  secret_key: \"123\"\nsync:\n  url: http://x\n");
  chmod(path.c_str(), 0644);
  save_profile_keys(path, "default",
                    std::map<std::string, std::string>{{"access_key", "AK"},
                                                       {"secret_key", "true"},
                                                       {"compress", "false"},
                                                       {"threads", "4"},
                                                       {"region_name", "eu-west-1"}});
  struct stat st {};
  ASSERT_EQ(stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);

  Profile d = load_profile({path, "", std::nullopt});
  EXPECT_EQ(d.s3_bucket, "keep");
  EXPECT_EQ(d.rotation.days, 3);
  EXPECT_EQ(d.access_key, "AK");
  EXPECT_EQ(d.secret_key, "true");
  EXPECT_FALSE(d.compress);
  EXPECT_EQ(d.threads, 4);
  EXPECT_EQ(d.region_name, "eu-west-1");
  Profile o = load_profile({path, "other", std::nullopt});
  EXPECT_EQ(o.s3_bucket, "o");
  EXPECT_EQ(o.secret_key, "123");

  std::string text = read_file(path);
  // Strings that YAML 1.1 would read as something else stay quoted, so the
  // Python tool reads them back as strings; typed keys are plain.
  EXPECT_NE(text.find("secret_key: \"true\""), std::string::npos) << text;
  EXPECT_NE(text.find("secret_key: \"123\""), std::string::npos) << text;
  EXPECT_NE(text.find("compress: false"), std::string::npos) << text;
  EXPECT_NE(text.find("threads: 4"), std::string::npos) << text;
  EXPECT_NE(text.find("sync:"), std::string::npos) << text;

  // No temporary file left behind.
  int entries = 0;
  for ([[maybe_unused]] const auto& e : fs::directory_iterator(home_)) ++entries;
  EXPECT_EQ(entries, 1);
}

TEST_F(ConfigTest, SaveCreatesTheFileAndNewProfile) {
  std::string path = home_ + "/new.yml";
  save_profile_keys(path, "work",
                    std::map<std::string, ConfigValue>{
                        {"s3_bucket", std::string("b")},
                        {"recipients", std::vector<std::string>{"age1x", "age1y"}},
                        {"hooks", std::map<std::string, std::string>{{"after_backup", "echo: done"}}},
                        {"compress", false},
                        {"threads", std::int64_t{2}}});
  struct stat st {};
  ASSERT_EQ(stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  Profile p = load_profile({path, "work", std::nullopt});
  EXPECT_EQ(p.s3_bucket, "b");
  EXPECT_EQ(p.recipients, (std::vector<std::string>{"age1x", "age1y"}));
  EXPECT_EQ(p.hooks.at("after_backup"), "echo: done");
  EXPECT_FALSE(p.compress);
  EXPECT_EQ(p.threads, 2);

  // monostate removes a key.
  save_profile_keys(path, "work", std::map<std::string, ConfigValue>{{"threads", std::monostate{}}});
  EXPECT_EQ(read_file(path).find("threads"), std::string::npos);
  EXPECT_EQ(load_profile({path, "work", std::nullopt}).s3_bucket, "b");
}

TEST_F(ConfigTest, SaveRotation) {
  std::string path = write("c.yml", "default:\n  s3_bucket: b\n");
  Rotation r;
  r.days = 7;
  r.weeks = 4;
  r.months = 12;
  r.hours = 24;
  r.first_week_day = 6;
  save_rotation(path, "default", r);
  Profile p = load_profile({path, "", std::nullopt});
  EXPECT_EQ(p.s3_bucket, "b");
  EXPECT_EQ(p.rotation.days, 7);
  EXPECT_EQ(p.rotation.weeks, 4);
  EXPECT_EQ(p.rotation.months, 12);
  EXPECT_EQ(p.rotation.hours, 24);
  EXPECT_EQ(p.rotation.years, 0);
  EXPECT_EQ(p.rotation.first_week_day, 6);
  EXPECT_EQ(read_file(path).find("years"), std::string::npos);
}

TEST_F(ConfigTest, SaveFollowsASymlink) {
  std::string real = write("real.yml", "default:\n  s3_bucket: a\n");
  std::string link = home_ + "/link.yml";
  ASSERT_EQ(symlink(real.c_str(), link.c_str()), 0);
  save_profile_keys(link, "default", std::map<std::string, std::string>{{"s3_bucket", "b"}});
  EXPECT_TRUE(fs::is_symlink(link));
  EXPECT_EQ(load_profile({real, "", std::nullopt}).s3_bucket, "b");
}

TEST_F(ConfigTest, SaveRefusesBrokenYaml) {
  std::string path = write("c.yml", "default: [unclosed\n");
  EXPECT_THROW(save_profile_keys(path, "default", std::map<std::string, std::string>{{"a", "b"}}), Error);
  EXPECT_EQ(read_file(path), "default: [unclosed\n");
}
