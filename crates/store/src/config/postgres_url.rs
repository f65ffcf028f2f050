//! A `postgres://` URL as libpq reads it. tokio-postgres parses everything but the TLS
//! parameters it lacks (`sslmode=verify-ca|verify-full` and `sslrootcert=`), which are taken
//! out of the query first.

use std::path::PathBuf;
use std::str::FromStr;

use percent_encoding::percent_decode_str;

/// How a connection uses TLS: libpq's `sslmode`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum SslMode {
    /// Plain connections only.
    Disable,
    /// TLS when the server offers it, else plain; the certificate is not checked (the default,
    /// as in libpq).
    #[default]
    Prefer,
    /// TLS or no connection; the certificate is not checked.
    Require,
    /// TLS with a certificate that chains to a trusted root; any host name.
    VerifyCa,
    /// TLS with a certificate that chains to a trusted root and names the host connected to.
    VerifyFull,
}

const SSL_MODES: &str = "disable, prefer, require, verify-ca or verify-full";

impl SslMode {
    /// The mode named `name` as libpq spells it (`verify-full`), `None` for any other name.
    ///
    /// ```
    /// use store::config::SslMode;
    /// assert_eq!(SslMode::parse("verify-ca"), Some(SslMode::VerifyCa));
    /// assert_eq!(SslMode::parse("allow"), None);
    /// ```
    pub fn parse(name: &str) -> Option<Self> {
        Some(match name {
            "disable" => Self::Disable,
            "prefer" => Self::Prefer,
            "require" => Self::Require,
            "verify-ca" => Self::VerifyCa,
            "verify-full" => Self::VerifyFull,
            _ => return None,
        })
    }

    /// libpq's name of the mode, e.g. `verify-full`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Disable => "disable",
            Self::Prefer => "prefer",
            Self::Require => "require",
            Self::VerifyCa => "verify-ca",
            Self::VerifyFull => "verify-full",
        }
    }

    /// Whether the server's certificate must chain to a trusted root.
    pub fn verifies_certificate(self) -> bool {
        matches!(self, Self::VerifyCa | Self::VerifyFull)
    }

    fn for_driver(self) -> tokio_postgres::config::SslMode {
        use tokio_postgres::config::SslMode as Driver;
        match self {
            Self::Disable => Driver::Disable,
            Self::Prefer => Driver::Prefer,
            Self::Require | Self::VerifyCa | Self::VerifyFull => Driver::Require,
        }
    }
}

impl std::fmt::Display for SslMode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A parsed `postgres://` URL: the driver's configuration and the TLS settings beside it.
/// `Debug` never shows the password.
#[derive(Debug, Clone)]
pub struct PostgresUrl {
    /// What tokio-postgres connects with (its `sslmode` is `require` for both verifying modes).
    pub config: tokio_postgres::Config,
    /// `sslmode=`, `prefer` when absent.
    pub ssl_mode: SslMode,
    /// `sslrootcert=`: the PEM file of the roots `verify-ca` and `verify-full` trust; `None`
    /// when absent or `system` (the system's roots, unless `MDS_PG_CA_FILE` names a file).
    pub root_cert: Option<PathBuf>,
}

impl PostgresUrl {
    /// Parses `raw`; the error says what is wrong without repeating the password.
    ///
    /// ```
    /// use store::config::{PostgresUrl, SslMode};
    /// let url = PostgresUrl::parse("postgres://u@db/x?sslmode=verify-full&sslrootcert=/etc/ca.pem")?;
    /// assert_eq!(url.ssl_mode, SslMode::VerifyFull);
    /// assert_eq!(url.root_cert.as_deref(), Some(std::path::Path::new("/etc/ca.pem")));
    /// assert!(PostgresUrl::parse("postgres://u@db/x?sslmode=allow").is_err());
    /// # Ok::<(), String>(())
    /// ```
    pub fn parse(raw: &str) -> Result<Self, String> {
        let (rest, tls) = take_tls_params(raw)?;
        let ssl_mode = match tls.ssl_mode {
            None => SslMode::default(),
            Some(name) => SslMode::parse(&name)
                .ok_or_else(|| format!("sslmode={name} is not one of {SSL_MODES}"))?,
        };
        let mut config = tokio_postgres::Config::from_str(&rest).map_err(|e| {
            // The driver's causes name options, never their values.
            match std::error::Error::source(&e) {
                Some(cause) => format!("{e}: {cause}"),
                None => e.to_string(),
            }
        })?;
        config.ssl_mode(ssl_mode.for_driver());
        let root_cert = tls
            .root_cert
            .filter(|path| !path.is_empty() && path != "system")
            .map(PathBuf::from);
        Ok(Self {
            config,
            ssl_mode,
            root_cert,
        })
    }
}

#[derive(Default)]
struct TlsParams {
    ssl_mode: Option<String>,
    root_cert: Option<String>,
}

/// `raw` without its `sslmode` and `sslrootcert` query parameters, and their decoded values.
/// The query starts at the first `?` after the user info, which (as tokio-postgres reads it)
/// ends at the first `@`.
fn take_tls_params(raw: &str) -> Result<(String, TlsParams), String> {
    let after_userinfo = raw.find('@').map_or(0, |at| at + 1);
    let Some(query_at) = raw[after_userinfo..].find('?').map(|q| after_userinfo + q) else {
        return Ok((raw.to_owned(), TlsParams::default()));
    };
    let mut tls = TlsParams::default();
    let mut kept = Vec::new();
    for param in raw[query_at + 1..].split('&').filter(|p| !p.is_empty()) {
        let (key, value) = param.split_once('=').unwrap_or((param, ""));
        let decode = || {
            percent_decode_str(value)
                .decode_utf8()
                .map(|v| v.into_owned())
                .map_err(|_| format!("the value of {key} is not UTF-8"))
        };
        match key {
            "sslmode" => tls.ssl_mode = Some(decode()?),
            "sslrootcert" => tls.root_cert = Some(decode()?),
            _ => kept.push(param),
        }
    }
    let mut rest = raw[..query_at].to_owned();
    if !kept.is_empty() {
        rest.push('?');
        rest.push_str(&kept.join("&"));
    }
    Ok((rest, tls))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_to_prefer_without_a_root_file() {
        let url = PostgresUrl::parse("postgres://u:pw@h:5433/db").expect("valid");
        assert_eq!(url.ssl_mode, SslMode::Prefer);
        assert_eq!(url.root_cert, None);
        assert_eq!(url.config.get_ports(), [5433]);
    }

    #[test]
    fn verifying_modes_make_the_driver_require_tls() {
        for (mode, driver) in [
            ("disable", tokio_postgres::config::SslMode::Disable),
            ("prefer", tokio_postgres::config::SslMode::Prefer),
            ("require", tokio_postgres::config::SslMode::Require),
            ("verify-ca", tokio_postgres::config::SslMode::Require),
            ("verify-full", tokio_postgres::config::SslMode::Require),
        ] {
            let url = PostgresUrl::parse(&format!("postgres://h/db?sslmode={mode}")).expect(mode);
            assert_eq!(url.ssl_mode.as_str(), mode);
            assert_eq!(url.config.get_ssl_mode(), driver, "{mode}");
        }
    }

    #[test]
    fn keeps_the_other_parameters_for_the_driver() {
        let url = PostgresUrl::parse(
            "postgres://h/db?application_name=a&sslrootcert=%2Ftmp%2Fmy%20ca.pem&connect_timeout=3",
        )
        .expect("valid");
        assert_eq!(url.config.get_application_name(), Some("a"));
        assert_eq!(
            url.config.get_connect_timeout(),
            Some(&std::time::Duration::from_secs(3))
        );
        assert_eq!(url.root_cert, Some(PathBuf::from("/tmp/my ca.pem")));
    }

    #[test]
    fn a_question_mark_in_the_password_is_not_the_query() {
        let url = PostgresUrl::parse("postgres://u:p?w@h/db?sslmode=require").expect("valid");
        assert_eq!(url.ssl_mode, SslMode::Require);
        assert_eq!(url.config.get_password(), Some(&b"p?w"[..]));
    }

    #[test]
    fn system_roots_are_no_file() {
        let url = PostgresUrl::parse("postgres://h/db?sslmode=verify-full&sslrootcert=system")
            .expect("valid");
        assert_eq!(url.root_cert, None);
    }

    #[test]
    fn names_the_accepted_modes() {
        let err = PostgresUrl::parse("postgres://u:hunter2@h/db?sslmode=allow").expect_err("allow");
        assert!(
            err.contains("verify-full") && !err.contains("hunter2"),
            "{err}"
        );
    }
}
