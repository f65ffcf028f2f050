//! The SQL text of the PostgreSQL sink, built once per sink from its schema and table names.

use std::fmt::Write as _;

use crate::config::valid_identifier;
use crate::sink::SinkError;

const COLUMNS: &str =
    "provider, symbol, resolution, ts, open, high, low, close, volume, delayed, revision";
/// Columns a row binds.
pub(super) const COLUMN_COUNT: usize = 11;
/// The upsert tail; the target table is aliased `t`. A row holding a higher revision is left
/// alone; an equal one is rewritten (idempotent).
const ON_CONFLICT: &str = "ON CONFLICT (provider, symbol, resolution, ts) DO UPDATE SET \
    open = EXCLUDED.open, high = EXCLUDED.high, low = EXCLUDED.low, close = EXCLUDED.close, \
    volume = EXCLUDED.volume, delayed = EXCLUDED.delayed, revision = EXCLUDED.revision \
    WHERE EXCLUDED.revision >= t.revision";

/// Statements of one sink.
#[derive(Debug, Clone)]
pub(super) struct Sql {
    /// `"schema"."table"`.
    pub table: String,
    /// Creates schema and table under an advisory lock, adding the `revision` column to a
    /// table made before revisions (run in a transaction).
    pub create: String,
    /// Creates the session's staging table.
    pub create_stage: String,
    /// Binary `COPY` into the staging table.
    pub copy_stage: String,
    /// Merges the staging table into the table.
    pub merge_stage: String,
}

fn checked<'a>(what: &str, name: &'a str) -> Result<&'a str, SinkError> {
    if valid_identifier(name) {
        Ok(name)
    } else {
        Err(SinkError::Permanent(format!(
            "invalid postgres {what} name {name:?}: expected a letter or _ then letters, digits or _ (at most 63)"
        )))
    }
}

impl Sql {
    pub(super) fn new(schema: &str, table: &str) -> Result<Self, SinkError> {
        let schema = checked("schema", schema)?;
        let table_name = checked("table", table)?;
        let table = format!("\"{schema}\".\"{table_name}\"");
        let stage = format!("\"mdp_stage_{schema}_{table_name}\"");
        Ok(Self {
            create: format!(
                "SELECT pg_advisory_xact_lock(hashtext('mdp.sink.schema'));
                 CREATE SCHEMA IF NOT EXISTS \"{schema}\";
                 CREATE TABLE IF NOT EXISTS {table} (
                     provider   TEXT        NOT NULL,
                     symbol     TEXT        NOT NULL,
                     resolution TEXT        NOT NULL,
                     ts         TIMESTAMPTZ NOT NULL,
                     open       NUMERIC     NOT NULL,
                     high       NUMERIC     NOT NULL,
                     low        NUMERIC     NOT NULL,
                     close      NUMERIC     NOT NULL,
                     volume     NUMERIC     NOT NULL,
                     delayed    BOOLEAN     NOT NULL DEFAULT FALSE,
                     revision   BIGINT      NOT NULL DEFAULT 0,
                     PRIMARY KEY (provider, symbol, resolution, ts)
                 );
                 ALTER TABLE {table} ADD COLUMN IF NOT EXISTS revision BIGINT NOT NULL DEFAULT 0;"
            ),
            create_stage: format!(
                "CREATE TEMP TABLE IF NOT EXISTS {stage} (LIKE {table}) ON COMMIT DELETE ROWS"
            ),
            copy_stage: format!("COPY {stage} ({COLUMNS}) FROM STDIN (FORMAT binary)"),
            merge_stage: format!(
                "INSERT INTO {table} AS t ({COLUMNS}) SELECT {COLUMNS} FROM {stage} {ON_CONFLICT}"
            ),
            table,
        })
    }

    /// A multi-row upsert of `rows` rows.
    pub(super) fn insert(&self, rows: usize) -> String {
        let mut sql = format!("INSERT INTO {} AS t ({COLUMNS}) VALUES ", self.table);
        for row in 0..rows {
            if row > 0 {
                sql.push_str(", ");
            }
            let base = row * COLUMN_COUNT;
            sql.push('(');
            for col in 1..=COLUMN_COUNT {
                if col > 1 {
                    sql.push_str(", ");
                }
                let _ = write!(sql, "${}", base + col);
            }
            sql.push(')');
        }
        sql.push(' ');
        sql.push_str(ON_CONFLICT);
        sql
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_parameters_row_by_row() {
        let sql = Sql::new("s", "bars").expect("valid names");
        let text = sql.insert(2);
        assert!(text.starts_with("INSERT INTO \"s\".\"bars\" AS t"));
        assert!(text.contains("($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11), ($12,"));
        assert!(text.contains("$22) ON CONFLICT (provider, symbol, resolution, ts) DO UPDATE"));
        assert!(text.ends_with("WHERE EXCLUDED.revision >= t.revision"));
    }

    #[test]
    fn rejects_names_that_would_need_quoting() {
        assert!(Sql::new("a\"; DROP", "bars").is_err());
        assert!(Sql::new("ok", "").is_err());
    }
}
