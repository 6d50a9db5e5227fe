// Events: session ids, the callback registry, hooks run through /bin/sh with
// the event in their environment, and plugin loading errors.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>

#include "bakthat/errors.hpp"
#include "bakthat/events.hpp"
#include "events/scope.hpp"

namespace bakthat::events {
namespace {

TEST(Uuid4, FormatVersionAndVariant) {
  const std::regex shape("^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$");
  std::set<std::string> seen;
  for (int i = 0; i < 1000; ++i) {
    std::string id = uuid4();
    ASSERT_TRUE(std::regex_match(id, shape)) << id;
    seen.insert(id);
  }
  EXPECT_EQ(seen.size(), 1000u);
}

TEST(Uuid4, RandomBitsVary) {
  // Each of the 122 random bits takes both values over a few hundred ids.
  std::string all_or(32, '0'), all_and(32, 'f');
  auto hexval = [](char c) { return c <= '9' ? c - '0' : c - 'a' + 10; };
  unsigned ors[32] = {}, ands[32];
  for (auto& a : ands) a = 15;
  for (int i = 0; i < 300; ++i) {
    std::string id = uuid4();
    id.erase(std::remove(id.begin(), id.end(), '-'), id.end());
    for (int k = 0; k < 32; ++k) {
      ors[k] |= hexval(id[k]);
      ands[k] &= hexval(id[k]);
    }
  }
  for (int k = 0; k < 32; ++k) {
    if (k == 12) {  // the version nibble
      EXPECT_EQ(ors[k], 4u);
      EXPECT_EQ(ands[k], 4u);
    } else if (k == 16) {  // variant: 10xx
      EXPECT_EQ(ors[k], 0xbu);
      EXPECT_EQ(ands[k], 0x8u);
    } else {
      EXPECT_EQ(ors[k], 15u) << k;
      EXPECT_EQ(ands[k], 0u) << k;
    }
  }
}

TEST(Names, KnownEvents) {
  for (const char* op : {"backup", "restore", "delete", "delete_older_than", "rotate_backups"}) {
    EXPECT_TRUE(known_event(std::string("before_") + op));
    EXPECT_TRUE(known_event(std::string("on_") + op));
  }
  EXPECT_FALSE(known_event("on_verify"));
  EXPECT_FALSE(known_event("backup"));
  EXPECT_FALSE(known_event("on_"));
  EXPECT_FALSE(known_event("*"));
}

Event make(const std::string& name) {
  Event e;
  e.name = name;
  e.operation = name.substr(name.find('_') + 1);
  e.session_id = uuid4();
  return e;
}

TEST(Registry, DeliversByNameAndWildcard) {
  std::vector<std::string> got;
  auto a = subscribe("on_backup", [&](const Event& e) { got.push_back("a:" + e.name); });
  auto b = subscribe("*", [&](const Event& e) { got.push_back("b:" + e.name); });
  auto c = subscribe("before_restore", [&](const Event& e) { got.push_back("c:" + e.name); });
  publish(make("on_backup"));
  publish(make("before_restore"));
  publish(make("on_delete"));
  EXPECT_EQ(got, (std::vector<std::string>{"a:on_backup", "b:on_backup", "c:before_restore", "b:before_restore",
                                            "b:on_delete"}));
}

TEST(Registry, UnsubscribeOnDestructionAndExplicitly) {
  int n = 0;
  {
    auto s = subscribe("on_delete", [&](const Event&) { ++n; });
    publish(make("on_delete"));
  }
  publish(make("on_delete"));
  EXPECT_EQ(n, 1);
  auto s = subscribe("on_delete", [&](const Event&) { ++n; });
  EXPECT_TRUE(s.active());
  s.unsubscribe();
  EXPECT_FALSE(s.active());
  publish(make("on_delete"));
  EXPECT_EQ(n, 1);
}

TEST(Registry, MoveKeepsOneSubscription) {
  int n = 0;
  Subscription outer;
  {
    auto s = subscribe("on_restore", [&](const Event&) { ++n; });
    outer = std::move(s);
    EXPECT_FALSE(s.active());
  }
  publish(make("on_restore"));
  EXPECT_EQ(n, 1);
  outer = Subscription();  // replacing it unsubscribes
  publish(make("on_restore"));
  EXPECT_EQ(n, 1);
}

TEST(Registry, ReleaseKeepsTheCallback) {
  static int n = 0;
  { subscribe("on_rotate_backups", [](const Event&) { ++n; }).release(); }
  publish(make("on_rotate_backups"));
  EXPECT_EQ(n, 1);
}

TEST(Registry, ThrowingCallbackIsReportedAndOthersStillRun) {
  int n = 0;
  auto a = subscribe("before_backup", [](const Event&) { throw std::runtime_error("boom"); });
  auto b = subscribe("before_backup", [&](const Event&) { ++n; });
  auto failures = publish(make("before_backup"));
  ASSERT_EQ(failures.size(), 1u);
  EXPECT_EQ(failures[0], "boom");
  EXPECT_EQ(n, 1);
}

TEST(Registry, CallbackMayUnsubscribeItself) {
  int n = 0;
  Subscription s;
  s = subscribe("on_backup", [&](const Event&) {
    ++n;
    s.unsubscribe();
  });
  publish(make("on_backup"));
  publish(make("on_backup"));
  EXPECT_EQ(n, 1);
}

TEST(Registry, RejectsUnknownNamesAndEmptyCallbacks) {
  try {
    (void)subscribe("on_bakup", [](const Event&) {});
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::Usage);
    EXPECT_NE(std::string(e.what()).find("on_bakup"), std::string::npos);
  }
  EXPECT_THROW((void)subscribe("on_backup", EventCallback()), Error);
}

// A scratch directory, removed afterwards.
class Scratch : public ::testing::Test {
 protected:
  void SetUp() override {
    char t[] = "/tmp/bakthat-events-XXXXXX";
    ASSERT_NE(::mkdtemp(t), nullptr);
    dir = t;
  }
  void TearDown() override { std::system(("rm -rf '" + dir + "'").c_str()); }
  std::string read(const std::string& name) {
    std::ifstream f(dir + "/" + name);
    std::stringstream ss;
    ss << f.rdbuf();
    return ss.str();
  }
  std::string dir;
};

class RecordingReporter : public Reporter {
 public:
  void message(const std::string&) override {}
  void warning(const std::string& t) override { warnings.push_back(t); }
  void progress_start(const std::string&, std::uint64_t) override {}
  void progress(std::uint64_t) override {}
  void progress_end() override {}
  std::vector<std::string> warnings;
};

using Hooks = Scratch;

TEST_F(Hooks, EnvironmentCarriesTheEventButNotThePassword) {
  ::setenv("BAKTHAT_PASSWORD", "s3cret-never-shown", 1);
  Event e = make("on_backup");
  e.target = "my dir";
  e.profile = "work";
  e.destination = "local";
  e.result = {{"stored_filename", "x.20260101000000.tgz"}, {"size", 12}};
  std::string cmd = "env > '" + dir + "/env'; printf '%s' \"$BAKTHAT_RESULT\" > '" + dir + "/result'";
  EXPECT_EQ(run_hook(cmd, e), "");
  ::unsetenv("BAKTHAT_PASSWORD");
  std::string env = read("env");
  EXPECT_NE(env.find("BAKTHAT_EVENT=on_backup\n"), std::string::npos);
  EXPECT_NE(env.find("BAKTHAT_OPERATION=backup\n"), std::string::npos);
  EXPECT_NE(env.find("BAKTHAT_SESSION_ID=" + e.session_id + "\n"), std::string::npos);
  EXPECT_NE(env.find("BAKTHAT_NAME=my dir\n"), std::string::npos);
  EXPECT_NE(env.find("BAKTHAT_PROFILE=work\n"), std::string::npos);
  EXPECT_NE(env.find("BAKTHAT_DESTINATION=local\n"), std::string::npos);
  EXPECT_EQ(env.find("s3cret"), std::string::npos);
  EXPECT_EQ(env.find("BAKTHAT_PASSWORD"), std::string::npos);
  EXPECT_EQ(nlohmann::json::parse(read("result")), e.result);
}

TEST_F(Hooks, LargeResultGoesThroughAFile) {
  Event e = make("on_rotate_backups");
  e.result = nlohmann::json::array();
  for (int i = 0; i < 3000; ++i) e.result.push_back({{"stored_filename", "backup-" + std::to_string(i)}});
  std::string cmd = "test -z \"$BAKTHAT_RESULT\" && cat \"$BAKTHAT_RESULT_FILE\" > '" + dir +
                    "/result' && stat -c %a \"$BAKTHAT_RESULT_FILE\" > '" + dir + "/mode'";
  EXPECT_EQ(run_hook(cmd, e), "");
  EXPECT_EQ(nlohmann::json::parse(read("result")), e.result);
  EXPECT_EQ(read("mode"), "600\n");
}

TEST_F(Hooks, FailureIsDescribedNotThrown) {
  Event e = make("before_delete");
  EXPECT_EQ(run_hook("exit 3", e), "exit status 3");
  EXPECT_NE(run_hook("kill -9 $$", e).find("killed by signal 9"), std::string::npos);
}

TEST_F(Hooks, FireRunsTheMatchingHookAndWarnsOnFailure) {
  Profile p;
  p.hooks["on_delete"] = "echo \"$BAKTHAT_EVENT\" >> '" + dir + "/log'";
  p.hooks["before_delete"] = "echo \"$BAKTHAT_EVENT\" >> '" + dir + "/log'; exit 1";
  RecordingReporter rep;
  std::vector<std::string> seen;
  auto s = subscribe("*", [&](const Event& e) { seen.push_back(e.name + " " + e.session_id); });
  {
    Scope scope("delete", "thing", p, "local", rep);
    EXPECT_EQ(read("log"), "before_delete\n");
    ASSERT_EQ(rep.warnings.size(), 1u);
    EXPECT_NE(rep.warnings[0].find("hook before_delete failed: exit status 1"), std::string::npos);
    BackupRecord r;
    r.stored_filename = "thing.20260101000000.tgz";
    BackupRecord back = scope.done(r);
    EXPECT_EQ(back.stored_filename, r.stored_filename);
    ASSERT_EQ(seen.size(), 2u);
    EXPECT_EQ(seen[0], "before_delete " + scope.session_id());
    EXPECT_EQ(seen[1], "on_delete " + scope.session_id());
  }
  EXPECT_EQ(read("log"), "before_delete\non_delete\n");
  EXPECT_EQ(rep.warnings.size(), 1u);
}

TEST_F(Hooks, ScopeWithoutDoneFiresNoOnEvent) {
  Profile p;
  RecordingReporter rep;
  std::vector<std::string> seen;
  auto s = subscribe("*", [&](const Event& e) { seen.push_back(e.name); });
  { Scope scope("restore", "x", p, "local", rep); }
  EXPECT_EQ(seen, std::vector<std::string>{"before_restore"});
}

TEST_F(Hooks, HookOutputGoesToStandardError) {
  // A hook's stdout must not mix into a restore written to stdout.
  Event e = make("on_restore");
  int saved = ::dup(1);
  std::string out = dir + "/stdout";
  FILE* f = std::fopen(out.c_str(), "w");
  ASSERT_NE(f, nullptr);
  ::dup2(::fileno(f), 1);
  std::string why = run_hook("echo to-stdout", e);
  ::dup2(saved, 1);
  ::close(saved);
  std::fclose(f);
  EXPECT_EQ(why, "");
  EXPECT_EQ(read("stdout"), "");
}

using Plugins = Scratch;

TEST_F(Plugins, MissingFileIsAConfigError) {
  Profile p;
  p.plugins_dir = dir;
  p.plugins = {"nothere"};
  try {
    load_plugins(p);
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::Config);
    EXPECT_NE(std::string(e.what()).find("plugin 'nothere' not found"), std::string::npos) << e.what();
  }
}

TEST_F(Plugins, RelativeNameNeedsPluginsDir) {
  Profile p;
  p.plugins = {"x.so"};
  EXPECT_THROW(load_plugins(p), Error);
}

TEST_F(Plugins, NotASharedLibraryIsAConfigError) {
  std::ofstream(dir + "/bad.so") << "not an ELF file";
  Profile p;
  p.plugins_dir = dir;
  p.plugins = {"bad"};
  try {
    load_plugins(p);
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::Config);
    EXPECT_NE(std::string(e.what()).find("plugin 'bad' cannot be loaded"), std::string::npos) << e.what();
  }
}

TEST_F(Plugins, LoaderTakesItsEntriesOnceAndDeclinesTheOthers) {
  std::vector<std::string> asked;
  set_plugin_loader([&](const std::string& entry, const std::string& plugins_dir, const std::string& profile) {
    asked.push_back(entry + "|" + plugins_dir + "|" + profile);
    if (entry == "failing.Plugin") throw std::runtime_error("no module named failing");
    return entry == "mymodule.MyPlugin";
  });
  Profile p;
  p.plugins_dir = dir;
  p.plugins = {"mymodule.MyPlugin"};
  load_plugins(p);
  load_plugins(p);
  EXPECT_EQ(asked, std::vector<std::string>{"mymodule.MyPlugin|" + dir + "|default"});

  p.plugins = {"nothere"};  // declined: looked up as a file
  EXPECT_THROW(load_plugins(p), Error);
  p.plugins = {"failing.Plugin"};
  try {
    load_plugins(p);
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::Config);
    EXPECT_NE(std::string(e.what()).find("plugin 'failing.Plugin' cannot be loaded: no module named failing"),
              std::string::npos) << e.what();
  }
  set_plugin_loader({});
}

}  // namespace
}  // namespace bakthat::events
