// The catalog's schema: the statements peewee 2 (Python bakthat 0.6's ORM)
// generated for its models Backups, Jobs, Inventory, Config and History, in
// its order, with its index names ("<table>_<column>"). SQLite stores them in
// sqlite_master without "IF NOT EXISTS", so a catalog we create is the one
// the Python tool creates, and an existing one is left as it is.
#pragma once

namespace bakthat::catalog {

inline constexpr const char* kSchema[] = {
    R"(CREATE TABLE IF NOT EXISTS "backups" ("id" INTEGER NOT NULL PRIMARY KEY, "backend" VARCHAR(255) NOT NULL, "backend_hash" VARCHAR(255), "backup_date" INTEGER NOT NULL, "filename" TEXT NOT NULL, "is_deleted" SMALLINT NOT NULL, "last_updated" INTEGER NOT NULL, "metadata" VARCHAR(255) NOT NULL, "size" INTEGER NOT NULL, "stored_filename" TEXT NOT NULL, "tags" VARCHAR(255) NOT NULL))",
    R"(CREATE INDEX IF NOT EXISTS "backups_backend" ON "backups" ("backend"))",
    R"(CREATE INDEX IF NOT EXISTS "backups_backend_hash" ON "backups" ("backend_hash"))",
    R"(CREATE INDEX IF NOT EXISTS "backups_backup_date" ON "backups" ("backup_date"))",
    R"(CREATE INDEX IF NOT EXISTS "backups_filename" ON "backups" ("filename"))",
    R"(CREATE UNIQUE INDEX IF NOT EXISTS "backups_stored_filename" ON "backups" ("stored_filename"))",
    R"(CREATE TABLE IF NOT EXISTS "jobs" ("id" INTEGER NOT NULL PRIMARY KEY, "filename" VARCHAR(255) NOT NULL, "job_id" VARCHAR(255) NOT NULL))",
    R"(CREATE INDEX IF NOT EXISTS "jobs_filename" ON "jobs" ("filename"))",
    R"(CREATE TABLE IF NOT EXISTS "inventory" ("id" INTEGER NOT NULL PRIMARY KEY, "archive_id" VARCHAR(255) NOT NULL, "filename" VARCHAR(255) NOT NULL))",
    R"(CREATE UNIQUE INDEX IF NOT EXISTS "inventory_archive_id" ON "inventory" ("archive_id"))",
    R"(CREATE INDEX IF NOT EXISTS "inventory_filename" ON "inventory" ("filename"))",
    R"(CREATE TABLE IF NOT EXISTS "config" ("id" INTEGER NOT NULL PRIMARY KEY, "key" VARCHAR(255) NOT NULL, "value" VARCHAR(255) NOT NULL))",
    R"(CREATE UNIQUE INDEX IF NOT EXISTS "config_key" ON "config" ("key"))",
    R"(CREATE TABLE IF NOT EXISTS "history" ("id" INTEGER NOT NULL PRIMARY KEY, "data" VARCHAR(255) NOT NULL, "ts" INTEGER NOT NULL, "action" VARCHAR(255) NOT NULL, "model" VARCHAR(255) NOT NULL, "pk" VARCHAR(255) NOT NULL))",
    R"(CREATE INDEX IF NOT EXISTS "history_ts" ON "history" ("ts"))",
    R"(CREATE INDEX IF NOT EXISTS "history_action" ON "history" ("action"))",
    R"(CREATE INDEX IF NOT EXISTS "history_model" ON "history" ("model"))",
    R"(CREATE INDEX IF NOT EXISTS "history_pk" ON "history" ("pk"))"};

}  // namespace bakthat::catalog
