//! `DATABASE_URL`: which sink to open, parsed without connecting, shown without its password.

use std::path::PathBuf;
use std::str::FromStr;

/// A parsed sink URL. `Debug` and `Display` never show a password.
#[derive(Clone, PartialEq, Eq)]
pub enum DatabaseUrl {
    /// `sqlite://PATH`: a SQLite file, created on first use (`sqlite:///abs/path` for an
    /// absolute path).
    Sqlite(PathBuf),
    /// `postgres://...` or `postgresql://...`: a PostgreSQL server.
    Postgres(String),
    /// `memory://`: an in-process sink for tests and demos.
    Memory,
}

const ACCEPTED: &str =
    "sqlite://PATH, postgres://USER@HOST:PORT/DB (or postgresql://), or memory://";

impl Default for DatabaseUrl {
    fn default() -> Self {
        Self::Sqlite(PathBuf::from("mdp.db"))
    }
}

impl DatabaseUrl {
    /// Parses `raw`; the error says what is accepted (and never repeats a password).
    ///
    /// ```
    /// use store::config::DatabaseUrl;
    /// assert_eq!(DatabaseUrl::parse("sqlite://data/mdp.db"), Ok(DatabaseUrl::Sqlite("data/mdp.db".into())));
    /// assert_eq!(DatabaseUrl::parse("memory://"), Ok(DatabaseUrl::Memory));
    /// assert!(DatabaseUrl::parse("mysql://x").is_err());
    /// ```
    pub fn parse(raw: &str) -> Result<Self, String> {
        let raw = raw.trim();
        let Some((scheme, rest)) = raw.split_once("://") else {
            return Err(ACCEPTED.to_owned());
        };
        match scheme.to_ascii_lowercase().as_str() {
            "sqlite" if !rest.is_empty() => Ok(Self::Sqlite(PathBuf::from(rest))),
            "sqlite" => Err(format!("a file path after sqlite:// ({ACCEPTED})")),
            "memory" => Ok(Self::Memory),
            "postgres" | "postgresql" => match tokio_postgres::Config::from_str(raw) {
                Ok(_) => Ok(Self::Postgres(raw.to_owned())),
                Err(e) => Err(format!("a valid PostgreSQL URL ({e})")),
            },
            _ => Err(ACCEPTED.to_owned()),
        }
    }

    /// The backend's name: `sqlite`, `postgres` or `memory`.
    pub fn backend(&self) -> &'static str {
        match self {
            Self::Sqlite(_) => "sqlite",
            Self::Postgres(_) => "postgres",
            Self::Memory => "memory",
        }
    }
}

impl std::fmt::Display for DatabaseUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Sqlite(path) => write!(f, "sqlite://{}", path.display()),
            Self::Postgres(url) => f.write_str(&redact_url(url)),
            Self::Memory => f.write_str("memory://"),
        }
    }
}

impl std::fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "DatabaseUrl({self})")
    }
}

/// `url` with the password of its user info replaced by `***`.
///
/// ```
/// use store::config::redact_url;
/// assert_eq!(redact_url("postgres://u:secret@db:5432/x"), "postgres://u:***@db:5432/x");
/// assert_eq!(redact_url("postgres://u@db/x"), "postgres://u@db/x");
/// ```
pub fn redact_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(authority_end);
    match authority.rsplit_once('@') {
        Some((userinfo, host)) => match userinfo.split_once(':') {
            Some((user, _)) => format!("{scheme}://{user}:***@{host}{tail}"),
            None => url.to_owned(),
        },
        None => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_absolute_sqlite_paths() {
        assert_eq!(
            DatabaseUrl::parse("sqlite:///var/lib/mdp.db"),
            Ok(DatabaseUrl::Sqlite(PathBuf::from("/var/lib/mdp.db")))
        );
    }

    #[test]
    fn never_shows_a_password() {
        let url = DatabaseUrl::parse("postgres://u:hunter2@h/db").expect("valid url");
        assert!(!format!("{url:?} {url}").contains("hunter2"));
    }

    #[test]
    fn names_the_accepted_forms_for_an_unknown_scheme() {
        let err = DatabaseUrl::parse("mysql://h/db").expect_err("unknown scheme");
        assert!(err.contains("sqlite://") && err.contains("postgres://"));
    }

    #[test]
    fn rejects_a_malformed_postgres_url() {
        assert!(DatabaseUrl::parse("postgres://h:notaport/db").is_err());
    }
}
