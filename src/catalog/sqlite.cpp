#include "catalog/sqlite.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>

#include "bakthat/errors.hpp"

namespace bakthat::catalog {

namespace {
constexpr int kBusyTimeoutMs = 30000;
}

Db::Db(const std::string& path) : path_(path) {
  // Create the file ourselves so it is 0600 from the first byte; SQLite then
  // gives its -wal and -shm files the same mode.
  std::error_code ec;
  std::filesystem::path parent = std::filesystem::path(path).parent_path();
  if (!parent.empty() && !std::filesystem::exists(parent, ec)) {
    std::filesystem::create_directories(parent, ec);
    if (ec) throw Error(ErrorKind::Io, "catalog " + path + ": cannot create its directory: " + ec.message());
  }
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd >= 0) ::close(fd);

  int rc = sqlite3_open_v2(path.c_str(), &db_,
                           SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
  if (rc != SQLITE_OK) {
    std::string msg = db_ ? sqlite3_errmsg(db_) : sqlite3_errstr(rc);
    sqlite3_close(db_);
    db_ = nullptr;
    throw Error(ErrorKind::Io, "catalog " + path + ": cannot open: " + msg);
  }
  sqlite3_extended_result_codes(db_, 1);
  sqlite3_busy_timeout(db_, kBusyTimeoutMs);
}

Db::~Db() {
  if (db_) sqlite3_close_v2(db_);
}

void Db::fail(int rc, const std::string& doing) const {
  std::string msg = db_ ? sqlite3_errmsg(db_) : sqlite3_errstr(rc);
  int primary = rc & 0xff;
  ErrorKind kind = (primary == SQLITE_CORRUPT || primary == SQLITE_NOTADB) ? ErrorKind::Corrupt
                                                                          : ErrorKind::Io;
  throw Error(kind, "catalog " + path_ + ": " + doing + ": " + msg);
}

void Db::exec(const char* sql) {
  char* err = nullptr;
  int rc = sqlite3_exec(db_, sql, nullptr, nullptr, &err);
  if (rc != SQLITE_OK) {
    std::string msg = err ? err : sqlite3_errstr(rc);
    sqlite3_free(err);
    int primary = rc & 0xff;
    ErrorKind kind = (primary == SQLITE_CORRUPT || primary == SQLITE_NOTADB) ? ErrorKind::Corrupt
                                                                            : ErrorKind::Io;
    throw Error(kind, "catalog " + path_ + ": " + msg);
  }
}

Statement::Statement(Db& db, std::string_view sql) : db_(db) {
  int rc = sqlite3_prepare_v2(db.handle(), sql.data(), static_cast<int>(sql.size()), &stmt_, nullptr);
  if (rc != SQLITE_OK) db_.fail(rc, "cannot prepare a query");
}

Statement::~Statement() { sqlite3_finalize(stmt_); }

Statement& Statement::bind(int pos, std::string_view text) {
  int rc = sqlite3_bind_text64(stmt_, pos, text.data(), text.size(), SQLITE_TRANSIENT, SQLITE_UTF8);
  if (rc != SQLITE_OK) db_.fail(rc, "cannot bind a value");
  return *this;
}

Statement& Statement::bind(int pos, std::int64_t value) {
  int rc = sqlite3_bind_int64(stmt_, pos, value);
  if (rc != SQLITE_OK) db_.fail(rc, "cannot bind a value");
  return *this;
}

Statement& Statement::bind_opt(int pos, const std::optional<std::string>& text) {
  return text ? bind(pos, std::string_view(*text)) : bind_null(pos);
}

Statement& Statement::bind_null(int pos) {
  int rc = sqlite3_bind_null(stmt_, pos);
  if (rc != SQLITE_OK) db_.fail(rc, "cannot bind a value");
  return *this;
}

bool Statement::step() {
  int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  db_.fail(rc, "query failed");
}

bool Statement::is_null(int col) const { return sqlite3_column_type(stmt_, col) == SQLITE_NULL; }

std::int64_t Statement::integer(int col) const { return sqlite3_column_int64(stmt_, col); }

std::string Statement::text(int col) const {
  const unsigned char* p = sqlite3_column_text(stmt_, col);
  if (!p) return {};
  return std::string(reinterpret_cast<const char*>(p), static_cast<size_t>(sqlite3_column_bytes(stmt_, col)));
}

WriteTransaction::WriteTransaction(Db& db) : db_(db) { db_.exec("BEGIN IMMEDIATE"); }

WriteTransaction::~WriteTransaction() {
  if (!done_) sqlite3_exec(db_.handle(), "ROLLBACK", nullptr, nullptr, nullptr);
}

void WriteTransaction::commit() {
  db_.exec("COMMIT");
  done_ = true;
}

}  // namespace bakthat::catalog
