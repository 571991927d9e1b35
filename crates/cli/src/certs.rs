//! `beaconport certs`: a development certificate authority and a certificate for the server and
//! for each kind of caller (a force system per force, an investigator, an auditor, an operator),
//! so the demo and the tests run over real mutual TLS. Written with rcgen; for development and
//! tests only (a deployment uses its own PKI).

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context as _, Result};
use clap::Args;
use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose, SanType,
};

#[derive(Debug, Args, Clone)]
pub struct CertsArgs {
    /// Directory to write the PEM files and `identities.toml` into.
    #[arg(long, default_value = "beaconport-certs")]
    pub out: PathBuf,
    /// Force codes to make a force-system certificate for.
    #[arg(long, value_delimiter = ',', default_value = "GMP,WMP,MPS")]
    pub forces: Vec<String>,
    /// Days the certificates are valid.
    #[arg(long, default_value_t = 365)]
    pub days: i64,
    /// More DNS names for the server certificate, besides localhost and 127.0.0.1 (the names
    /// clients reach the servers by: `ingest-1,query-1,beaconport-ingest`).
    #[arg(long, value_delimiter = ',')]
    pub server_names: Vec<String>,
}

/// One caller's certificate: its common name is the principal; the role (and force) it maps to
/// is written to `identities.toml`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Issued {
    pub principal: String,
    pub role: &'static str,
    pub force: Option<String>,
    pub cert: PathBuf,
    pub key: PathBuf,
}

/// What `write_dev_pki` wrote.
#[derive(Debug, Clone)]
pub struct DevPki {
    pub ca_cert: PathBuf,
    pub server_cert: PathBuf,
    pub server_key: PathBuf,
    pub clients: Vec<Issued>,
    /// For tests: an investigator's certificate of the same CA that expired yesterday (mapped
    /// like the others), when asked for.
    pub expired: Option<Issued>,
}

fn params(cn: &str, days: i64) -> Result<CertificateParams> {
    let mut p = CertificateParams::default();
    let mut dn = DistinguishedName::new();
    dn.push(DnType::OrganizationName, "Beaconport development");
    dn.push(DnType::CommonName, cn);
    p.distinguished_name = dn;
    let now = time::OffsetDateTime::now_utc();
    p.not_before = now - time::Duration::minutes(5);
    p.not_after = now + time::Duration::days(days);
    Ok(p)
}

fn write(path: &Path, text: &str, secret: bool) -> Result<()> {
    std::fs::write(path, text).with_context(|| format!("writing {}", path.display()))?;
    if secret {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))?;
    }
    Ok(())
}

/// Writes a CA, a server certificate for `localhost`/`127.0.0.1` and one client certificate per
/// caller into `dir`, valid from 5 minutes ago for `days` days.
pub fn write_dev_pki(dir: &Path, forces: &[String], days: i64) -> Result<DevPki> {
    write_pki(dir, forces, days, false)
}

/// [`write_dev_pki`], plus an expired investigator certificate of the same CA (for tests).
pub fn write_test_pki(dir: &Path, forces: &[String]) -> Result<DevPki> {
    write_pki(dir, forces, 30, true)
}

fn write_pki(dir: &Path, forces: &[String], days: i64, with_expired: bool) -> Result<DevPki> {
    write_pki_named(dir, forces, days, with_expired, &[])
}

fn write_pki_named(
    dir: &Path,
    forces: &[String],
    days: i64,
    with_expired: bool,
    server_names: &[String],
) -> Result<DevPki> {
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let ca_key = KeyPair::generate()?;
    let mut ca = params("Beaconport development CA", days.max(1))?;
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign, KeyUsagePurpose::DigitalSignature];
    let ca_cert = ca.self_signed(&ca_key)?;
    let issuer = Issuer::new(ca, ca_key);
    let ca_path = dir.join("ca.pem");
    write(&ca_path, &ca_cert.pem(), false)?;

    let issue = |cn: &str, server: bool| -> Result<(PathBuf, PathBuf)> {
        let key = KeyPair::generate()?;
        let mut p = params(cn, days)?;
        if cn.starts_with("expired-") {
            p.not_before = time::OffsetDateTime::now_utc() - time::Duration::days(30);
            p.not_after = time::OffsetDateTime::now_utc() - time::Duration::days(1);
        }
        if server {
            p.subject_alt_names = vec![
                SanType::DnsName("localhost".try_into()?),
                SanType::IpAddress(std::net::IpAddr::from([127, 0, 0, 1])),
            ];
            for name in server_names {
                let name = name.trim();
                if !name.is_empty() {
                    p.subject_alt_names.push(SanType::DnsName(
                        name.try_into().map_err(|e| anyhow::anyhow!("--server-names: {name:?}: {e}"))?,
                    ));
                }
            }
            p.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        } else {
            p.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
        }
        p.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        let cert = p.signed_by(&key, &issuer)?;
        let (c, k) = (dir.join(format!("{cn}.pem")), dir.join(format!("{cn}.key")));
        write(&c, &cert.pem(), false)?;
        write(&k, &key.serialize_pem(), true)?;
        Ok((c, k))
    };
    let (server_cert, server_key) = issue("server", true)?;
    let mut callers: Vec<(String, &'static str, Option<String>)> =
        forces.iter().map(|f| (format!("force-{}", f.to_lowercase()), "force", Some(f.clone()))).collect();
    callers.push(("investigator-01".into(), "investigator", None));
    callers.push(("auditor-01".into(), "auditor", None));
    callers.push(("operator-01".into(), "operator", None));
    if with_expired {
        callers.push(("expired-investigator".into(), "investigator", None));
    }
    let mut clients = Vec::new();
    let mut toml = String::from(
        "# Who each client certificate is: its subject common name, the role it acts in, and for a\n\
         # force system the one force whose events it may publish. Include under [tls].\n",
    );
    for (cn, role, force) in callers {
        let (cert, key) = issue(&cn, false)?;
        toml += &format!("\n[[tls.identities]]\ncommon_name = \"{cn}\"\nrole = \"{role}\"\n");
        if let Some(f) = &force {
            toml += &format!("force = \"{f}\"\n");
        }
        clients.push(Issued { principal: cn, role, force, cert, key });
    }
    write(&dir.join("identities.toml"), &toml, false)?;
    let expired = clients.iter().position(|c| c.principal.starts_with("expired-")).map(|i| clients.remove(i));
    Ok(DevPki { ca_cert: ca_path, server_cert, server_key, clients, expired })
}

pub fn run(a: CertsArgs) -> Result<ExitCode> {
    let pki = write_pki_named(&a.out, &a.forces, a.days, false, &a.server_names)?;
    println!("development CA: {}", pki.ca_cert.display());
    println!("server: {} (key {})", pki.server_cert.display(), pki.server_key.display());
    for c in &pki.clients {
        println!("{:<18} role {:<12} {} (key {})", c.principal, c.role, c.cert.display(), c.key.display());
    }
    println!("identities: {}", a.out.join("identities.toml").display());
    Ok(ExitCode::SUCCESS)
}
