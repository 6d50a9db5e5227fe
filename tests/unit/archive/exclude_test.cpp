#include "archive/exclude.hpp"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>

#include "bakthat/errors.hpp"

namespace fs = std::filesystem;
using bakthat::Error;
using bakthat::ErrorKind;
using bakthat::archive::ExcludeRules;

namespace {

struct ScratchDir {
  fs::path path;
  ScratchDir() {
    std::string tmpl = (fs::temp_directory_path() / "bakthat-exclude-XXXXXX").string();
    path = ::mkdtemp(tmpl.data());
  }
  ~ScratchDir() { fs::remove_all(path); }
  void write(const std::string& name, const std::string& content) const {
    std::ofstream(path / name) << content;
  }
};

}  // namespace

TEST(ExcludeRules, EmptyExcludesNothing) {
  ExcludeRules rules;
  EXPECT_TRUE(rules.empty());
  EXPECT_FALSE(rules.excluded("a/b.log"));
}

TEST(ExcludeRules, WildcardMatchesAnyName) {
  ExcludeRules rules({"*.log"});
  EXPECT_TRUE(rules.excluded("x.log"));
  EXPECT_TRUE(rules.excluded("deep/dir/x.log"));
  EXPECT_FALSE(rules.excluded("x.log.txt"));
  EXPECT_FALSE(rules.excluded("logs/x.txt"));
}

TEST(ExcludeRules, NameMatchesAtAnyDepthAndCoversContent) {
  ExcludeRules rules({"node_modules"});
  EXPECT_TRUE(rules.excluded("node_modules"));
  EXPECT_TRUE(rules.excluded("app/node_modules"));
  EXPECT_TRUE(rules.excluded("app/node_modules/pkg/index.js"));
  EXPECT_FALSE(rules.excluded("app/node_modules2"));
  EXPECT_FALSE(rules.excluded("my_node_modules"));
  // The walk only asks about leaves: the name itself.
  EXPECT_TRUE(rules.excluded_leaf("app/node_modules"));
  EXPECT_FALSE(rules.excluded_leaf("app/node_modules/pkg"));
}

TEST(ExcludeRules, MultiComponentPatternMatchesTrailingRuns) {
  ExcludeRules rules({"build/tmp"});
  EXPECT_TRUE(rules.excluded("build/tmp"));
  EXPECT_TRUE(rules.excluded("src/build/tmp"));
  EXPECT_TRUE(rules.excluded("src/build/tmp/a.o"));
  EXPECT_FALSE(rules.excluded("build/tmp2"));
  EXPECT_FALSE(rules.excluded("build"));
  EXPECT_FALSE(rules.excluded("tmp"));
}

TEST(ExcludeRules, TrailingSlashAndAnchoring) {
  ExcludeRules rules({"cache/", "/top.txt"});
  EXPECT_TRUE(rules.excluded("cache"));
  EXPECT_TRUE(rules.excluded("a/cache/x"));
  EXPECT_TRUE(rules.excluded("top.txt"));
  EXPECT_FALSE(rules.excluded("sub/top.txt"));
}

TEST(ExcludeRules, StarCrossesSlashesLikePythonFnmatch) {
  ExcludeRules rules({"docs/*.pdf"});
  EXPECT_TRUE(rules.excluded("docs/a.pdf"));
  EXPECT_TRUE(rules.excluded("docs/sub/a.pdf"));
  EXPECT_TRUE(rules.excluded("x/docs/a.pdf"));
  EXPECT_FALSE(rules.excluded("docs/a.txt"));
}

TEST(ExcludeRules, FileIgnoresCommentsBlanksAndCarriageReturns) {
  ScratchDir dir;
  dir.write("ex", "# a comment\n\n   \n*.tmp\r\n  secret  \n!\n");
  auto rules = ExcludeRules::from_file((dir.path / "ex").string());
  EXPECT_EQ(rules.patterns(), (std::vector<std::string>{"*.tmp", "secret"}));
  EXPECT_EQ(rules.source(), (dir.path / "ex").string());
  EXPECT_TRUE(rules.excluded("a/b.tmp"));
  EXPECT_TRUE(rules.excluded("secret"));
  EXPECT_FALSE(rules.excluded("keep"));
}

// A whitelist .gitignore ("*", then "!name" lines) keeps what it names: the
// last matching line decides, as in git; below an excluded directory
// nothing comes back.
TEST(ExcludeRules, NegatedLinesReinclude) {
  ExcludeRules rules({"*", "!keep", "!*.md", "!/docs", "notes.md"});
  EXPECT_TRUE(rules.excluded("other"));
  EXPECT_FALSE(rules.excluded("keep"));
  EXPECT_FALSE(rules.excluded("README.md"));
  EXPECT_TRUE(rules.excluded("notes.md"));  // a later line excludes again
  EXPECT_FALSE(rules.excluded("docs"));
  EXPECT_TRUE(rules.excluded("docs/x.txt"));  // "*" matches the name below docs
  EXPECT_TRUE(rules.excluded("build/keep"));  // build is excluded, and its content with it
  EXPECT_EQ(rules.patterns(), (std::vector<std::string>{"*", "!keep", "!*.md", "!/docs", "notes.md"}));
  ExcludeRules logs({"*.log", "!important.log"});
  EXPECT_TRUE(logs.excluded("a/debug.log"));
  EXPECT_FALSE(logs.excluded("a/important.log"));
}

TEST(ExcludeRules, ForDirectoryPrefersBakthatExcludeThenGitignore) {
  ScratchDir dir;
  EXPECT_TRUE(ExcludeRules::for_directory(dir.path.string(), "").empty());
  dir.write(".gitignore", "*.o\n");
  EXPECT_EQ(ExcludeRules::for_directory(dir.path.string(), "").patterns(),
            std::vector<std::string>{"*.o"});
  dir.write(".bakthatexclude", "*.bak\n");
  EXPECT_EQ(ExcludeRules::for_directory(dir.path.string(), "").patterns(),
            std::vector<std::string>{"*.bak"});
  dir.write("explicit", "only\n");
  EXPECT_EQ(ExcludeRules::for_directory(dir.path.string(), (dir.path / "explicit").string()).patterns(),
            std::vector<std::string>{"only"});
}

// An exclude file written for the Python bakthat names absolute paths (it
// matched patterns against the path on its command line, the working
// directory by default): they apply under the directory backed up, next to
// the .gitignore reading of a leading '/'.
TEST(ExcludeRules, AnchoredPatternsAlsoMatchAbsolutePathsUnderTheRoot) {
  ScratchDir dir;
  const std::string root = dir.path.string();
  dir.write(".bakthatexclude", root + "/secrets\n" + root + "/logs/*.gz\n/top.txt\n/elsewhere" + root + "/other\n");
  auto rules = ExcludeRules::for_directory(root + "/", "");
  EXPECT_TRUE(rules.excluded("secrets"));
  EXPECT_TRUE(rules.excluded("secrets/id_rsa"));
  EXPECT_TRUE(rules.excluded("logs/a.gz"));
  EXPECT_TRUE(rules.excluded("logs/old/b.gz"));
  EXPECT_FALSE(rules.excluded("logs/a.txt"));
  EXPECT_FALSE(rules.excluded("sub/secrets"));
  EXPECT_TRUE(rules.excluded("top.txt"));
  EXPECT_FALSE(rules.excluded("other"));  // an absolute path not under the root
  // Without the root (a lone file's rules), only the relative reading.
  EXPECT_FALSE(ExcludeRules(rules.patterns()).excluded("secrets"));
}

TEST(ExcludeRules, MissingExplicitFileIsAnError) {
  ScratchDir dir;
  try {
    ExcludeRules::for_directory(dir.path.string(), (dir.path / "nope").string());
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::NotFound);
    EXPECT_NE(std::string(e.what()).find("nope"), std::string::npos);
  }
}
