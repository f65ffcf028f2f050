//! `DATABASE_URL`: which sink to open, parsed without connecting, shown without its password.

use std::path::PathBuf;

#[cfg(feature = "postgres")]
use super::postgres_url::PostgresUrl;

/// A parsed sink URL. `Debug` and `Display` never show a password.
#[derive(Clone, PartialEq, Eq)]
pub enum DatabaseUrl {
    /// `sqlite://PATH`: a SQLite file, created on first use (`sqlite:///abs/path` for an
    /// absolute path).
    Sqlite(PathBuf),
    /// `postgres://...` or `postgresql://...`: a PostgreSQL server; libpq's `sslmode` and
    /// `sslrootcert` parameters are understood (`PostgresUrl`).
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
    /// Parses `raw`; the error says what is accepted (and never repeats a password). A
    /// backend this build of the store cannot open (feature `sqlite` or `postgres` off) is
    /// refused, naming the feature.
    ///
    /// ```
    /// use store::config::DatabaseUrl;
    /// # #[cfg(feature = "sqlite")]
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
            "sqlite" if rest.is_empty() => Err(format!("a file path after sqlite:// ({ACCEPTED})")),
            "sqlite" => Self::Sqlite(PathBuf::from(rest)).built_in(),
            "memory" => Ok(Self::Memory),
            "postgres" | "postgresql" => {
                #[cfg(feature = "postgres")]
                if let Err(e) = PostgresUrl::parse(raw) {
                    return Err(format!("a valid PostgreSQL URL ({e})"));
                }
                Self::Postgres(raw.to_owned()).built_in()
            }
            _ => Err(ACCEPTED.to_owned()),
        }
    }

    /// The store's cargo feature that opens this backend when this build lacks it, `None`
    /// when the backend is built in.
    ///
    /// ```
    /// use store::config::DatabaseUrl;
    /// assert_eq!(DatabaseUrl::Memory.missing_feature(), None);
    /// ```
    pub fn missing_feature(&self) -> Option<&'static str> {
        match self {
            Self::Sqlite(_) if !cfg!(feature = "sqlite") => Some("sqlite"),
            Self::Postgres(_) if !cfg!(feature = "postgres") => Some("postgres"),
            _ => None,
        }
    }

    /// `self`, or what to do when this build cannot open it.
    fn built_in(self) -> Result<Self, String> {
        match self.missing_feature() {
            None => Ok(self),
            Some(_) => Err(self.needs_feature()),
        }
    }

    /// Why a URL of a backend this build lacks is refused (each backend's feature has its
    /// name).
    pub(crate) fn needs_feature(&self) -> String {
        let backend = self.backend();
        format!(
            "a backend built in: {backend}:// needs the store built with its `{backend}` feature"
        )
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

/// `url` with the password of its user info replaced by `***`; in a PostgreSQL URL also a
/// `password=` parameter, and the user info ends at the first `@` as tokio-postgres reads it.
///
/// ```
/// use store::config::redact_url;
/// assert_eq!(redact_url("postgres://u:secret@db:5432/x"), "postgres://u:***@db:5432/x");
/// assert_eq!(redact_url("postgres://u@db/x"), "postgres://u@db/x");
/// assert_eq!(
///     redact_url("postgres://u@db/x?sslmode=require&password=secret"),
///     "postgres://u@db/x?sslmode=require&password=***"
/// );
/// ```
pub fn redact_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let postgres = matches!(
        scheme.to_ascii_lowercase().as_str(),
        "postgres" | "postgresql"
    );
    let userinfo_end = if postgres {
        rest.find('@')
    } else {
        let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
        rest[..authority_end].rfind('@')
    };
    let (userinfo, tail) = match userinfo_end {
        Some(at) => (Some(&rest[..at]), &rest[at + 1..]),
        None => (None, rest),
    };
    let tail = if postgres {
        redact_password_param(tail)
    } else {
        tail.to_owned()
    };
    match userinfo {
        Some(userinfo) => match userinfo.split_once(':') {
            Some((user, _)) => format!("{scheme}://{user}:***@{tail}"),
            None => format!("{scheme}://{userinfo}@{tail}"),
        },
        None => format!("{scheme}://{tail}"),
    }
}

/// `rest` (host, path and query) with the value of a `password` query parameter hidden.
fn redact_password_param(rest: &str) -> String {
    let Some((head, query)) = rest.split_once('?') else {
        return rest.to_owned();
    };
    let params: Vec<&str> = query
        .split('&')
        .map(|param| match param.split_once('=') {
            Some(("password", _)) => "password=***",
            _ => param,
        })
        .collect();
    format!("{head}?{}", params.join("&"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    #[cfg(feature = "sqlite")]
    fn accepts_absolute_sqlite_paths() {
        assert_eq!(
            DatabaseUrl::parse("sqlite:///var/lib/mdp.db"),
            Ok(DatabaseUrl::Sqlite(PathBuf::from("/var/lib/mdp.db")))
        );
    }

    #[test]
    #[cfg(feature = "postgres")]
    fn never_shows_a_password() {
        let url = DatabaseUrl::parse("postgres://u:hunter2@h/db").expect("valid url");
        assert!(!format!("{url:?} {url}").contains("hunter2"));
    }

    #[test]
    fn never_shows_a_password_the_driver_would_read() {
        for url in [
            "postgres://u:pa?ss/word@h/db",
            "postgresql://u:hunter2@h/db?password=hunter2",
            "postgres://h/db?password=hunter2&sslmode=require",
        ] {
            let shown = redact_url(url);
            assert!(
                !shown.contains("hunter2") && !shown.contains("ss/word"),
                "{shown}"
            );
        }
        assert_eq!(
            redact_url("https://u:pw@hook.example/x?e=a@b"),
            "https://u:***@hook.example/x?e=a@b"
        );
    }

    #[test]
    #[cfg(feature = "postgres")]
    fn accepts_libpq_tls_parameters() {
        assert!(
            DatabaseUrl::parse("postgres://h/db?sslmode=verify-full&sslrootcert=/ca.pem").is_ok()
        );
        let err = DatabaseUrl::parse("postgres://h/db?sslmode=strict").expect_err("no such mode");
        assert!(err.contains("sslmode"), "{err}");
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

    #[test]
    fn names_the_feature_of_a_backend_not_built_in() {
        for (url, feature, built_in) in [
            ("sqlite://b.db", "sqlite", cfg!(feature = "sqlite")),
            ("postgres://h/db", "postgres", cfg!(feature = "postgres")),
        ] {
            let parsed = DatabaseUrl::parse(url);
            match parsed {
                Ok(parsed) => assert!(built_in && parsed.missing_feature().is_none(), "{url}"),
                Err(e) => assert!(!built_in && e.contains(&format!("`{feature}`")), "{e}"),
            }
        }
    }
}
