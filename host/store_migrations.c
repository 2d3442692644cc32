/* The one migration history, for SQLite and PostgreSQL alike.
 *
 * Each migration is SQL both databases accept, with a few type placeholders expanded per
 * dialect by store__expand_sql (host/store.c):
 *   {UUID}       UUID in PostgreSQL, TEXT in SQLite (ids are made by the host: sdsim_uuid_v4)
 *   {JSON:col}   JSONB in PostgreSQL, TEXT CHECK (json_valid(col)) in SQLite (NULL allowed
 *                unless the column says NOT NULL): invalid JSON is
 *                refused by both
 *   {BOOL}       BOOLEAN in PostgreSQL, INTEGER in SQLite (0/1)
 *   {SERIAL}     BIGSERIAL PRIMARY KEY / INTEGER PRIMARY KEY AUTOINCREMENT
 * Times are BIGINT milliseconds since the epoch, written by the host from one clock, so the
 * two dialects never disagree about time zones or NOW().
 *
 * Never edit a migration that has shipped: add a new one at the end. */
#include "store_internal.h"

static const char m1_initial[] =
    "CREATE TABLE users ("
    " id {UUID} PRIMARY KEY,"
    " email VARCHAR(255) NOT NULL UNIQUE,"
    " password_hash VARCHAR(255) NOT NULL,"
    " first_name VARCHAR(100),"
    " last_name VARCHAR(100),"
    " role VARCHAR(20) NOT NULL DEFAULT 'user' CHECK (role IN ('user', 'premium', 'admin')),"
    " subscription_tier VARCHAR(20) NOT NULL DEFAULT 'free'"
    "   CHECK (subscription_tier IN ('free', 'pro', 'enterprise')),"
    " created_at BIGINT NOT NULL,"
    " updated_at BIGINT NOT NULL,"
    " last_login BIGINT,"
    " is_active {BOOL} NOT NULL DEFAULT TRUE);\n"

    "CREATE TABLE templates ("
    " id {UUID} PRIMARY KEY,"
    " slug VARCHAR(100) UNIQUE,"
    " name VARCHAR(255) NOT NULL,"
    " description TEXT,"
    " category VARCHAR(100),"
    " design_data {JSON:design_data} NOT NULL,"
    " created_by {UUID} REFERENCES users(id) ON DELETE SET NULL,"
    " is_official {BOOL} NOT NULL DEFAULT FALSE,"
    " usage_count BIGINT NOT NULL DEFAULT 0,"
    " created_at BIGINT NOT NULL);\n"
    "CREATE INDEX templates_category ON templates(category);\n"

    "CREATE TABLE projects ("
    " id {UUID} PRIMARY KEY,"
    " user_id {UUID} NOT NULL REFERENCES users(id) ON DELETE CASCADE,"
    " name VARCHAR(255) NOT NULL,"
    " description TEXT,"
    " design_data {JSON:design_data} NOT NULL,"
    " template_id {UUID} REFERENCES templates(id) ON DELETE SET NULL,"
    " forked_from {UUID} REFERENCES projects(id) ON DELETE SET NULL,"
    " is_public {BOOL} NOT NULL DEFAULT FALSE,"
    " version BIGINT NOT NULL DEFAULT 1,"
    " created_at BIGINT NOT NULL,"
    " updated_at BIGINT NOT NULL,"
    " last_accessed BIGINT);\n"
    "CREATE INDEX projects_owner ON projects(user_id, updated_at);\n"
    "CREATE INDEX projects_public ON projects(is_public, updated_at);\n"

    "CREATE TABLE simulation_sessions ("
    " id {UUID} PRIMARY KEY,"
    " user_id {UUID} NOT NULL REFERENCES users(id) ON DELETE CASCADE,"
    " project_id {UUID} REFERENCES projects(id) ON DELETE CASCADE,"
    " status VARCHAR(20) NOT NULL DEFAULT 'active'"
    "   CHECK (status IN ('active', 'paused', 'stopped', 'finished', 'failed')),"
    " simulation_config {JSON:simulation_config},"
    " started_at BIGINT NOT NULL,"
    " ended_at BIGINT,"
    " resource_usage {JSON:resource_usage},"
    " report {JSON:report});\n"
    "CREATE INDEX sessions_user ON simulation_sessions(user_id, status);\n"

    /* The defaults of each subscription tier; user_limits overrides them per user. */
    "CREATE TABLE plan_limits ("
    " tier VARCHAR(20) PRIMARY KEY,"
    " max_projects BIGINT NOT NULL,"
    " max_concurrent_simulations BIGINT NOT NULL,"
    " max_simulation_duration BIGINT NOT NULL,"
    " max_components_per_project BIGINT NOT NULL);\n"
    "INSERT INTO plan_limits VALUES ('free', 5, 1, 3600, 50), ('pro', 100, 5, 14400, 500),"
    " ('enterprise', 10000, 50, 86400, 5000);\n"

    "CREATE TABLE user_limits ("
    " user_id {UUID} PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,"
    " max_projects BIGINT,"
    " max_concurrent_simulations BIGINT,"
    " max_simulation_duration BIGINT,"
    " max_components_per_project BIGINT,"
    " created_at BIGINT NOT NULL,"
    " updated_at BIGINT NOT NULL);\n"

    "CREATE TABLE refresh_tokens ("
    " token_hash CHAR(64) PRIMARY KEY,"
    " user_id {UUID} NOT NULL REFERENCES users(id) ON DELETE CASCADE,"
    " family_id {UUID} NOT NULL,"
    " created_at BIGINT NOT NULL,"
    " expires_at BIGINT NOT NULL,"
    " used_at BIGINT,"
    " revoked_at BIGINT,"
    " replaced_by CHAR(64));\n"
    "CREATE INDEX refresh_family ON refresh_tokens(family_id);\n"
    "CREATE INDEX refresh_user ON refresh_tokens(user_id);\n"

    "CREATE TABLE audit_log ("
    " id {SERIAL},"
    " user_id {UUID} REFERENCES users(id) ON DELETE SET NULL,"
    " action VARCHAR(64) NOT NULL,"
    " target VARCHAR(255),"
    " detail {JSON:detail},"
    " ip VARCHAR(64),"
    " created_at BIGINT NOT NULL);\n"
    "CREATE INDEX audit_user ON audit_log(user_id, id);\n"

    "CREATE TABLE plugins ("
    " id {UUID} PRIMARY KEY,"
    " owner_id {UUID} NOT NULL REFERENCES users(id) ON DELETE CASCADE,"
    " name VARCHAR(100) NOT NULL,"
    " source TEXT NOT NULL,"
    " version BIGINT NOT NULL DEFAULT 1,"
    " is_public {BOOL} NOT NULL DEFAULT FALSE,"
    " created_at BIGINT NOT NULL,"
    " updated_at BIGINT NOT NULL,"
    " UNIQUE (owner_id, name));\n";

const store_migration store__migrations[] = {
    {1, "initial schema", m1_initial},
};
const int store__nmigrations = (int)(sizeof store__migrations / sizeof store__migrations[0]);
