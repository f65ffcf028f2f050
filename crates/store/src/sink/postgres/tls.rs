//! TLS of the PostgreSQL sink: rustls with the `ring` provider, libpq's `sslmode` mapped onto
//! a certificate verifier. `prefer` and `require` encrypt without checking the certificate,
//! `verify-ca` checks its chain, `verify-full` its chain and host name. The roots are a PEM
//! file (`sslrootcert=`, `MDS_PG_CA_FILE`) or the system's store (rustls-native-certs: the
//! same roots as `openssl`, libpq and the Redis client, so a CA added with
//! `update-ca-certificates` is trusted everywhere; a compiled-in bundle would not see it).

use std::path::Path;
use std::sync::Arc;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::verify_server_cert_signed_by_trust_anchor;
use rustls::crypto::{CryptoProvider, verify_tls12_signature, verify_tls13_signature};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::server::ParsedCertificate;
use rustls::{ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme};
use tokio_postgres_rustls::MakeRustlsConnect;

use crate::config::SslMode;
use crate::sink::SinkError;

/// The connector for `mode`, trusting the certificates of `ca_file` (else the system's) when
/// the mode verifies. A CA file that cannot be read or holds no certificate is named in the
/// [`SinkError::Permanent`].
pub(super) fn connector(
    mode: SslMode,
    ca_file: Option<&Path>,
) -> Result<MakeRustlsConnect, SinkError> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = ClientConfig::builder_with_provider(Arc::clone(&provider))
        .with_safe_default_protocol_versions()
        .map_err(|e| SinkError::Permanent(format!("postgres TLS: {e}")))?;
    let builder = match mode {
        SslMode::VerifyFull => builder.with_root_certificates(roots(ca_file)?),
        SslMode::VerifyCa => builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(NameBlind {
                roots: Some(roots(ca_file)?),
                provider,
            })),
        SslMode::Disable | SslMode::Prefer | SslMode::Require => builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(NameBlind {
                roots: None,
                provider,
            })),
    };
    let mut config = builder.with_no_client_auth();
    config.alpn_protocols = vec![b"postgresql".to_vec()];
    Ok(MakeRustlsConnect::new(config))
}

fn roots(ca_file: Option<&Path>) -> Result<RootCertStore, SinkError> {
    let mut roots = RootCertStore::empty();
    match ca_file {
        Some(path) => {
            let named = |what: String| {
                SinkError::Permanent(format!("postgres CA file {}: {what}", path.display()))
            };
            let pem = std::fs::read(path).map_err(|e| named(format!("cannot read it: {e}")))?;
            for cert in CertificateDer::pem_slice_iter(&pem) {
                let cert = cert.map_err(|e| named(format!("not PEM: {e}")))?;
                roots
                    .add(cert)
                    .map_err(|e| named(format!("unusable certificate: {e}")))?;
            }
            if roots.is_empty() {
                return Err(named("no certificate in it".to_owned()));
            }
        }
        None => {
            let found = rustls_native_certs::load_native_certs();
            roots.add_parsable_certificates(found.certs);
            if roots.is_empty() {
                let errors: Vec<String> = found.errors.iter().map(ToString::to_string).collect();
                return Err(SinkError::Permanent(format!(
                    "postgres TLS: no system root certificates found ({}); set MDS_PG_CA_FILE \
                     or sslrootcert=",
                    errors.join("; ")
                )));
            }
        }
    }
    Ok(roots)
}

/// A verifier that never checks the host name: with `roots` (`sslmode=verify-ca`) the
/// certificate must chain to one of them; without (`prefer`, `require`, as libpq without a
/// root file) any certificate will do. Either way the handshake must be signed by its key.
#[derive(Debug)]
struct NameBlind {
    roots: Option<RootCertStore>,
    provider: Arc<CryptoProvider>,
}

impl ServerCertVerifier for NameBlind {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        if let Some(roots) = &self.roots {
            let cert = ParsedCertificate::try_from(end_entity)?;
            verify_server_cert_signed_by_trust_anchor(
                &cert,
                roots,
                intermediates,
                now,
                self.provider.signature_verification_algorithms.all,
            )?;
        }
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls12_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls13_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_ca_file_is_named() {
        let err = connector(SslMode::VerifyFull, Some(Path::new("/nonexistent/ca.pem")))
            .map(|_| ())
            .expect_err("no such file");
        assert!(err.to_string().contains("/nonexistent/ca.pem"), "{err}");
        assert!(!err.is_retryable());
    }

    #[test]
    fn a_file_without_certificates_is_named() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("empty.pem");
        std::fs::write(&path, "not a certificate\n").expect("writes");
        let err = connector(SslMode::VerifyCa, Some(&path))
            .map(|_| ())
            .expect_err("no certificate");
        assert!(err.to_string().contains("empty.pem"), "{err}");
    }

    #[test]
    fn modes_that_do_not_verify_read_no_file() {
        for mode in [SslMode::Disable, SslMode::Prefer, SslMode::Require] {
            assert!(connector(mode, Some(Path::new("/nonexistent/ca.pem"))).is_ok());
        }
    }
}
