// The SQLite ledger, rebuilt from the study's records; see ledger.h.
#include "study/ledger.h"

#include <sqlite3.h>

#include <cstdio>
#include <cstring>

#include "common/fileio.h"
#include "study/record.h"

namespace em {

Ledger::~Ledger() {
    if (db_) sqlite3_close(db_);
}

Status Ledger::exec(const std::string &sql) {
    char *err = nullptr;
    if (sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &err) != SQLITE_OK) {
        std::string m = err ? err : "unknown error";
        sqlite3_free(err);
        return Status::error(path_ + ": " + m +
                             " (delete the ledger; it is rebuilt from the study's files)");
    }
    return Status::ok();
}

Status Ledger::open(const std::string &path) {
    path_ = path;
    if (sqlite3_open(path.c_str(), &db_) != SQLITE_OK)
        return Status::error(path + ": cannot open the ledger: " + sqlite3_errmsg(db_));
    sqlite3_busy_timeout(db_, 5000);
    return exec(
        "PRAGMA synchronous=NORMAL;"
        "CREATE TABLE IF NOT EXISTS stage(name TEXT PRIMARY KEY, status TEXT, seconds REAL, "
        "updated TEXT);"
        "CREATE TABLE IF NOT EXISTS run(name TEXT PRIMARY KEY, params INTEGER, tokens INTEGER, "
        "steps_done INTEGER,"
        " steps_total INTEGER, status TEXT, seconds REAL, updated TEXT);"
        "CREATE TABLE IF NOT EXISTS checkpoint(run TEXT, step INTEGER, tokens_seen INTEGER, "
        "val_loss REAL,"
        " PRIMARY KEY(run, step));"
        "CREATE TABLE IF NOT EXISTS evaluation(run TEXT, step INTEGER, status TEXT, seconds REAL,"
        " PRIMARY KEY(run, step));");
}

namespace {

struct Stmt {
    sqlite3_stmt *s = nullptr;
    ~Stmt() { sqlite3_finalize(s); }
};

}  // namespace

#define EM_SQL_PREPARE(stmt, sql)                                        \
    Stmt stmt;                                                           \
    if (sqlite3_prepare_v2(db_, sql, -1, &stmt.s, nullptr) != SQLITE_OK) \
        return Status::error(path_ + ": " + sqlite3_errmsg(db_));

#define EM_SQL_STEP(stmt)                    \
    if (sqlite3_step(stmt.s) != SQLITE_DONE) \
        return Status::error(path_ + ": " + sqlite3_errmsg(db_));

Status Ledger::stage_set(const std::string &stage, const std::string &status, double seconds) {
    // Seconds accumulate over the processes that worked on the stage; a rerun that finds it done
    // adds nothing.
    EM_SQL_PREPARE(st,
                   "INSERT INTO stage VALUES(?, ?, ?, datetime('now')) ON CONFLICT(name) DO UPDATE "
                   "SET status = excluded.status, seconds = stage.seconds + excluded.seconds, "
                   "updated = excluded.updated");
    sqlite3_bind_text(st.s, 1, stage.c_str(), -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st.s, 2, status.c_str(), -1, SQLITE_TRANSIENT);
    sqlite3_bind_double(st.s, 3, seconds);
    EM_SQL_STEP(st);
    return Status::ok();
}

Status Ledger::run_set(const std::string &run, int64_t params, int64_t tokens, int64_t steps_done,
                       int64_t steps_total, const std::string &status, double seconds) {
    // Seconds accumulate over the processes that trained or evaluated the run.
    EM_SQL_PREPARE(st,
                   "INSERT INTO run VALUES(?, ?, ?, ?, ?, ?, ?, datetime('now')) ON CONFLICT(name) "
                   "DO UPDATE SET params = excluded.params, tokens = excluded.tokens, steps_done = "
                   "excluded.steps_done, steps_total = excluded.steps_total, status = "
                   "excluded.status, seconds = run.seconds + excluded.seconds, updated = "
                   "excluded.updated");
    sqlite3_bind_text(st.s, 1, run.c_str(), -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st.s, 2, params);
    sqlite3_bind_int64(st.s, 3, tokens);
    sqlite3_bind_int64(st.s, 4, steps_done);
    sqlite3_bind_int64(st.s, 5, steps_total);
    sqlite3_bind_text(st.s, 6, status.c_str(), -1, SQLITE_TRANSIENT);
    sqlite3_bind_double(st.s, 7, seconds);
    EM_SQL_STEP(st);
    return Status::ok();
}

Status Ledger::checkpoint_set(const std::string &run, int64_t step, int64_t tokens_seen,
                              double val_loss) {
    EM_SQL_PREPARE(st, "INSERT OR REPLACE INTO checkpoint VALUES(?, ?, ?, ?)");
    sqlite3_bind_text(st.s, 1, run.c_str(), -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st.s, 2, step);
    sqlite3_bind_int64(st.s, 3, tokens_seen);
    sqlite3_bind_double(st.s, 4, val_loss);
    EM_SQL_STEP(st);
    return Status::ok();
}

Status Ledger::eval_set(const std::string &run, int64_t step, const std::string &status,
                        double seconds) {
    EM_SQL_PREPARE(st, "INSERT OR REPLACE INTO evaluation VALUES(?, ?, ?, ?)");
    sqlite3_bind_text(st.s, 1, run.c_str(), -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st.s, 2, step);
    sqlite3_bind_text(st.s, 3, status.c_str(), -1, SQLITE_TRANSIENT);
    sqlite3_bind_double(st.s, 4, seconds);
    EM_SQL_STEP(st);
    return Status::ok();
}

Result<std::vector<Ledger::StageRow>> Ledger::stages() {
    std::vector<StageRow> out;
    Stmt st;
    if (sqlite3_prepare_v2(db_, "SELECT name, status, seconds FROM stage ORDER BY rowid", -1, &st.s,
                           nullptr) != SQLITE_OK)
        return Status::error(path_ + ": " + sqlite3_errmsg(db_));
    while (sqlite3_step(st.s) == SQLITE_ROW) {
        StageRow r;
        r.name = reinterpret_cast<const char *>(sqlite3_column_text(st.s, 0));
        r.status = reinterpret_cast<const char *>(sqlite3_column_text(st.s, 1));
        r.seconds = sqlite3_column_double(st.s, 2);
        out.push_back(r);
    }
    return out;
}

Result<std::vector<Ledger::RunRow>> Ledger::runs() {
    std::vector<RunRow> out;
    Stmt st;
    const char *sql =
        "SELECT r.name, r.status, r.params, r.tokens, r.steps_done, r.steps_total, r.seconds,"
        " (SELECT COUNT(*) FROM checkpoint c WHERE c.run = r.name),"
        " (SELECT COUNT(*) FROM evaluation e WHERE e.run = r.name AND e.status = 'done'),"
        " (SELECT val_loss FROM checkpoint c WHERE c.run = r.name ORDER BY c.step DESC LIMIT 1)"
        " FROM run r ORDER BY r.params, r.tokens";
    if (sqlite3_prepare_v2(db_, sql, -1, &st.s, nullptr) != SQLITE_OK)
        return Status::error(path_ + ": " + sqlite3_errmsg(db_));
    while (sqlite3_step(st.s) == SQLITE_ROW) {
        RunRow r;
        r.name = reinterpret_cast<const char *>(sqlite3_column_text(st.s, 0));
        r.status = reinterpret_cast<const char *>(sqlite3_column_text(st.s, 1));
        r.params = sqlite3_column_int64(st.s, 2);
        r.tokens = sqlite3_column_int64(st.s, 3);
        r.steps_done = sqlite3_column_int64(st.s, 4);
        r.steps_total = sqlite3_column_int64(st.s, 5);
        r.seconds = sqlite3_column_double(st.s, 6);
        r.checkpoints = sqlite3_column_int64(st.s, 7);
        r.evaluated = sqlite3_column_int64(st.s, 8);
        if (sqlite3_column_type(st.s, 9) != SQLITE_NULL)
            r.val_loss = sqlite3_column_double(st.s, 9);
        out.push_back(r);
    }
    return out;
}

Status Ledger::clear() {
    return exec(
        "DELETE FROM stage; DELETE FROM run; DELETE FROM checkpoint; DELETE FROM evaluation;");
}

std::map<std::string, Ledger::RunRow> ledger_runs_before_records(const StudyPaths &p) {
    std::map<std::string, Ledger::RunRow> out;
    if (!file_exists(p.ledger())) return out;
    Ledger l;
    if (!l.open(p.ledger()).is_ok()) return out;
    auto rows = l.runs();
    if (rows.is_ok())
        for (const auto &r : *rows) out[r.name] = r;
    return out;
}

Status ledger_rebuild(const StudyPaths &p, const std::vector<std::string> &runs) {
    const std::string tmp = p.ledger() + ".tmp";
    std::remove(tmp.c_str());
    {
        Ledger l;
        EM_TRY(l.open(tmp));
        EM_TRY(l.exec("PRAGMA journal_mode=DELETE; BEGIN;"));
        EM_ASSIGN_OR_RETURN(auto stages, stage_records_read(p));
        for (const auto &s : stages) EM_TRY(l.stage_set(s.name, s.status, s.seconds));
        for (const auto &name : runs) {
            EM_ASSIGN_OR_RETURN(auto rec, run_record_read(p, name));
            if (!rec) continue;
            EM_TRY(l.run_set(rec->name, rec->params, rec->tokens, rec->steps_done, rec->steps_total,
                             rec->status, rec->seconds));
            for (const auto &[step, c] : rec->checkpoints)
                EM_TRY(l.checkpoint_set(rec->name, step, c.tokens_seen, c.val_loss));
            for (const auto &[step, sec] : rec->evaluated)
                EM_TRY(l.eval_set(rec->name, step, "done", sec));
        }
        EM_TRY(l.exec("COMMIT;"));
    }
    if (std::rename(tmp.c_str(), p.ledger().c_str()) != 0)
        return Status::error(p.ledger() + ": cannot replace the ledger: " + std::strerror(errno));
    // A WAL ledger from an older build leaves its side files behind.
    std::remove((p.ledger() + "-wal").c_str());
    std::remove((p.ledger() + "-shm").c_str());
    return Status::ok();
}

}  // namespace em
