// A thin RAII layer over the SQLite C API: one connection, prepared
// statements with bound parameters, and IMMEDIATE write transactions. Every
// SQLite failure becomes a bakthat::Error naming the catalog file.
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace bakthat::catalog {

class Db;

// A prepared statement; bind() positions start at 1. step() returns true
// while a row is available.
class Statement {
 public:
  Statement(Db& db, std::string_view sql);
  ~Statement();
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;

  Statement& bind(int pos, std::string_view text);
  Statement& bind(int pos, std::int64_t value);
  Statement& bind_opt(int pos, const std::optional<std::string>& text);  // nullopt: NULL
  Statement& bind_null(int pos);

  bool step();
  void run() { while (step()) {} }

  bool is_null(int col) const;
  std::int64_t integer(int col) const;
  std::string text(int col) const;  // NULL: ""

 private:
  Db& db_;
  sqlite3_stmt* stmt_ = nullptr;
};

class Db {
 public:
  // Opens (creating with mode 0600, and its directory if needed) the file.
  explicit Db(const std::string& path);
  ~Db();
  Db(const Db&) = delete;
  Db& operator=(const Db&) = delete;

  sqlite3* handle() const { return db_; }
  const std::string& path() const { return path_; }
  void exec(const char* sql);
  std::int64_t changes() const { return sqlite3_changes64(db_); }
  [[noreturn]] void fail(int rc, const std::string& doing) const;

 private:
  std::string path_;
  sqlite3* db_ = nullptr;
};

// BEGIN IMMEDIATE ... COMMIT: takes the write lock up front (waiting up to
// the busy timeout), so two processes never deadlock upgrading a read lock.
// Rolls back when destroyed without commit().
class WriteTransaction {
 public:
  explicit WriteTransaction(Db& db);
  ~WriteTransaction();
  WriteTransaction(const WriteTransaction&) = delete;
  WriteTransaction& operator=(const WriteTransaction&) = delete;
  void commit();

 private:
  Db& db_;
  bool done_ = false;
};

}  // namespace bakthat::catalog
